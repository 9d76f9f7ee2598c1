import type { PiiSpan } from './pii-types.ts';

/**
 * Personal data that only context reveals in free text (no NER model: none ships that runs offline
 * and fast enough for 1M rows). Each detector needs a cue that the words are about a person:
 * - street addresses: a house number with a street-type word in the conventions of English
 *   (US/UK/AU/CA/IE/NZ: `747 Maple Drive`), German / Dutch / Scandinavian compounds
 *   (`Hauptstraße 5`, `Keizersgracht 12`), French (`12 rue de la Paix`), Spanish / Italian /
 *   Portuguese (`Calle Mayor 3`, `Via Roma 10`, `Rua Augusta, 55`) and Japanese (`…丁目…番…号`);
 * - dates of birth: a date (ISO, numeric day-month-year either way, or with a month name) after a
 *   birth cue in a dozen languages (`dob`, `date of birth`, `born`, `geboren`, `né le`, …);
 * - person names: one to three capitalised words after a name cue (`my name is`, `Name:`, an
 *   honorific, `passenger`, `customer`, `Dear`), or right before an address, a birth cue or an
 *   e-mail in angle brackets (`Amelia Rossi, 747 Maple Drive`, `Jane Roe <jane@…>`).
 */

const UP = String.raw`[\p{Lu}]`;
const WORD = String.raw`${UP}[\p{Ll}\p{M}'’-]{1,30}`;
const NAME = String.raw`${WORD}(?:[ \t]${WORD}){0,2}`;

const EN_STREET = String.raw`(?:Street|St|Avenue|Ave|Road|Rd|Drive|Dr|Lane|Ln|Boulevard|Blvd|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Crescent|Cres|Close|Grove|Gardens|Row|Mews|Trail|Trl|Alley|Loop|Pike|Plaza|Walk|Hill)`;

const ADDRESS_RES: RegExp[] = [
  new RegExp(
    String.raw`\b\d{1,5}[A-Za-z]?(?:-\d{1,5})?,?[ \t]+(?:${WORD}[ \t]+){1,4}${EN_STREET}\b\.?(?:,?[ \t]+(?:Apt|Suite|Unit|Flat|#)\.?[ \t]*[\w-]{1,6})?`,
    'gu',
  ),
  new RegExp(
    String.raw`\b${UP}[\p{Ll}ß]{1,30}(?:[- ]${UP}?[\p{Ll}ß]{1,30}){0,2}(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer|chaussee|straat|laan|gracht|kade|singel|plein|gatan|vägen|gade|vej)[ \t]+\d{1,4}[ \t]?[a-zA-Z]?\b`,
    'gu',
  ),
  new RegExp(
    String.raw`\b\d{1,4}(?:[ \t]?(?:bis|ter))?,?[ \t]+(?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai|route|cours)[ \t]+(?:(?:de la|de l'|du|des|de|d')[ \t]?)?${WORD}(?:[ \t]${WORD}){0,3}`,
    'giu',
  ),
  new RegExp(
    String.raw`\b(?:Calle|C/|Avenida|Avda\.|Plaza|Paseo|Carrer|Via|Viale|Piazza|Corso|Largo|Vicolo|Rua|Travessa|Praça|Alameda|Rodovia)[ \t]+(?:(?:de la|del|de|della|delle|dei|da|do|dos|das)[ \t]+)?${WORD}(?:[ \t]${WORD}){0,3},?[ \t]*(?:n[º°o.]{1,2}[ \t]?)?\d{1,5}\b`,
    'gu',
  ),
  /[\u4e00-\u9fff\u3040-\u30ff]{1,10}[都道府県][\u4e00-\u9fff\u3040-\u30ff]{1,10}[市区町村][\u4e00-\u9fff\u3040-\u30ff0-9０-９\-－]{0,20}\d{1,4}丁目\d{1,4}(?:番地?|-)\d{1,4}号?/gu,
  /\d{1,4}丁目\d{1,4}(?:番地?|-)\d{1,4}号?/gu,
];

const MONTHS =
  'January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Januar|Februar|März|Juni|Juli|Oktober|Dezember|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre';
const DATE = String.raw`(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}\.?[ \t]+(?:${MONTHS})\.?,?[ \t]+\d{4}|(?:${MONTHS})\.?[ \t]+\d{1,2}(?:st|nd|rd|th)?,?[ \t]+\d{4}|\d{4}年\d{1,2}月\d{1,2}日)`;
const BIRTH_CUE = String.raw`(?:\bdob\b|\bd\.o\.b\.?|date[ _]of[ _]birth|birth[ _]?date|birthday|\bborn(?:[ \t]+on)?|geboren(?:[ \t]+am)?|geb\.|geburtsdatum|n[ée]e?[ \t]+le|date[ \t]+de[ \t]+naissance|fecha[ \t]+de[ \t]+nacimiento|nacid[oa][ \t]+el|data[ \t]+di[ \t]+nascita|nat[oa][ \t]+il|data[ \t]+de[ \t]+nascimento|nascid[oa][ \t]+em|geboortedatum|生年月日|出生日期)`;
const DOB_RE = new RegExp(String.raw`${BIRTH_CUE}["']?[ \t]*[:=-]?[ \t]*["']?(${DATE})`, 'giu');

/** Either case of a cue's first letter (the name itself must be capitalised, so no `i` flag). */
const cap = (w: string): string => `[${w[0]}${(w[0] as string).toUpperCase()}]${w.slice(1)}`;
/** Cues after which one capitalised word is already a name. */
const PERSON_CUES = [
  'my name is',
  'name is',
  'dear',
  "je m'appelle",
  'ich heiße',
  'ich heisse',
  'mein name ist',
  'me llamo',
  'mi nombre es',
  'mi chiamo',
  'meu nome é',
].map(cap);
/** Labels after which a name needs two capitalised words ("Passengers: Each reservation …" is policy text). */
const LABEL_CUES = [
  'name:',
  'full name:',
  'passenger:',
  'passengers:',
  'passenger',
  'customer:',
  'customer',
  'traveller:',
  'traveler:',
  'from:',
  'signed,',
].map(cap);
const HONORIFIC = String.raw`(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Frau|Mme|Mlle|Sr|Sra|Srta|Sig|Sig\.ra)\.?`;
const NAME_AFTER_CUE = new RegExp(
  String.raw`(?<![\p{L}])(?:${PERSON_CUES.join('|')}|${HONORIFIC})[ \t]+(${NAME})`,
  'gu',
);
const NAME_AFTER_LABEL = new RegExp(
  String.raw`(?<![\p{L}])(?:${LABEL_CUES.join('|')})[ \t]+(${WORD}(?:[ \t]${WORD}){1,2})`,
  'gu',
);
/** Words a capitalised run after a cue can be without being a name. */
const NOT_NAMES = new Set(
  'The A An I It This That We You He She They Customer Passenger Sir Madam User Assistant Team Support Thanks Thank Hello Hi Please Yes No Not Name Is Unknown None Null'.split(
    ' ',
  ),
);

function push(out: PiiSpan[], type: PiiSpan['type'], start: number, end: number): void {
  out.push({ type, start, end });
}

/** Keys of JSON-like text (not parseable as a whole: JSON inside prose) whose string value is personal data. */
const JSONISH = new RegExp(
  String.raw`"((?:first|last|full|given|family|middle|passenger|customer|cardholder|holder|contact|patient|guest|traveler|traveller)_?name|surname|name|dob|date_of_birth|birth_?date|birthday|(?:street_|shipping_|billing_|home_|mailing_)?address[12]?|street|zip(?:_?code)?|postal_?code|postcode|ssn|social_security_number|phone(?:_number)?|mobile|tel|email)"[ 	]*:[ 	]*"([^"\
]{1,120})"`,
  'gi',
);
const JSONISH_TYPE: [RegExp, PiiSpan['type']][] = [
  [/name$/i, 'PERSON'],
  [/^(dob|date_of_birth|birth_?date|birthday)$/i, 'DATE_OF_BIRTH'],
  [/address|street/i, 'STREET_ADDRESS'],
  [/zip|postal|postcode/i, 'POSTAL_CODE'],
  [/ssn|social/i, 'US_SSN'],
  [/phone|mobile|tel/i, 'PHONE_NUMBER'],
  [/email/i, 'EMAIL_ADDRESS'],
];
const PERSONAL_NEAR =
  /"(?:email|phone|dob|date_of_birth|birth_?date|address\w*|first_name|last_name|passenger\w*|ssn)"/i;

/**
 * Field-aware detection for JSON that sits inside prose (a system prompt quoting a record, a
 * document holding a snippet): `"key": "value"` pairs whose key names personal data. A bare
 * `name` counts only with a personal key within 300 characters (a product's `name` does not).
 */
export function jsonishFields(s: string, out: PiiSpan[]): void {
  if (!s.includes('":')) return;
  JSONISH.lastIndex = 0;
  for (let m = JSONISH.exec(s); m !== null; m = JSONISH.exec(s)) {
    const key = (m[1] as string).toLowerCase();
    const value = m[2] as string;
    if (/^<[A-Z_]+>$/.test(value) || value.trim() === '') continue;
    if (
      key === 'name' &&
      !PERSONAL_NEAR.test(s.slice(Math.max(0, m.index - 300), m.index + m[0].length + 300))
    )
      continue;
    const type = JSONISH_TYPE.find(([re]) => re.test(key))?.[1];
    if (!type) continue;
    if (type === 'PERSON' && !/^[\p{L}\p{M}' .,-]{2,100}$/u.test(value)) continue;
    // a bare `name` is a person's only as capitalised words ("langfuse-sdk" is a package)
    if (key === 'name' && !/^\p{Lu}[\p{L}\p{M}'.-]*(?: \p{Lu}[\p{L}\p{M}'.-]*)+$/u.test(value)) continue;
    const at = m.index + m[0].length - value.length - 1;
    push(out, type, at, at + value.length);
  }
}

/** Street addresses. */
export function addresses(s: string, out: PiiSpan[]): void {
  for (const re of ADDRESS_RES) {
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s))
      push(out, 'STREET_ADDRESS', m.index, m.index + m[0].length);
  }
}

/** Dates of birth (the date after a birth cue). */
export function birthDates(s: string, out: PiiSpan[]): void {
  DOB_RE.lastIndex = 0;
  for (let m = DOB_RE.exec(s); m !== null; m = DOB_RE.exec(s)) {
    const d = m[1] as string;
    const at = m.index + m[0].length - d.length;
    push(out, 'DATE_OF_BIRTH', at, at + d.length);
  }
}

/** The capitalised name run that ends right before `at` (skipping `, ` / ` `), or null. */
function nameBefore(s: string, at: number): [number, number] | null {
  const head = s.slice(Math.max(0, at - 80), at);
  const m = new RegExp(String.raw`(${NAME})[ \t]*[,(]?[ \t]*(?:<)?$`, 'u').exec(head);
  if (!m) return null;
  const words = (m[1] as string).split(/[ \t]+/);
  if (words.length < 2 || words.some((w) => NOT_NAMES.has(w))) return null;
  const start = at - head.length + m.index;
  return [start, start + (m[1] as string).length];
}

/** Person names after a name cue, or before an address, a birth cue or an e-mail in angle brackets. */
export function names(s: string, out: PiiSpan[], anchors: readonly PiiSpan[]): void {
  for (const re of [NAME_AFTER_CUE, NAME_AFTER_LABEL]) {
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      const n = m[1] as string;
      const words = n.split(/[ \t]+/);
      while (words.length > 0 && NOT_NAMES.has(words[0] as string)) words.shift();
      if (words.length === 0) continue;
      const text = words.join(' ');
      const at = m.index + m[0].length - n.length + n.indexOf(text);
      if (re === NAME_AFTER_LABEL && words.length < 2) continue;
      push(out, 'PERSON', at, at + text.length);
    }
  }
  for (const a of anchors) {
    if (a.type !== 'STREET_ADDRESS' && a.type !== 'DATE_OF_BIRTH' && a.type !== 'EMAIL_ADDRESS') continue;
    let at = a.start;
    if (a.type === 'DATE_OF_BIRTH') {
      const cue = new RegExp(String.raw`${BIRTH_CUE}[^\n]{0,6}$`, 'iu').exec(
        s.slice(Math.max(0, at - 40), at),
      );
      if (!cue) continue;
      at = at - (Math.min(40, at) - cue.index);
    } else if (a.type === 'EMAIL_ADDRESS' && s[a.start - 1] !== '<') continue;
    const span = nameBefore(s, at);
    if (span) push(out, 'PERSON', span[0], span[1]);
  }
}
