/**
 * Whether an assistant text is only a pleasantry ("You're welcome! Have a great day!"): such a
 * turn closes a conversation but does no work, so it is never a training target, a pair side or a
 * RAG answer. Hand-written because no maintained library classifies conversational closings; it is
 * deliberately conservative: a text is courtesy only when EVERY sentence of it matches one of the
 * closing / thanking / offering-more-help patterns below, uses only closing words
 * (CLOSING_WORDS), and it is short. Anything else (a
 * number, a fact, a question about the task) is substance. English first, with the common closings
 * of a few other languages; an unknown language is substance, never dropped.
 */

/** Longest text still taken for a pleasantry: a longer closing carries content. */
const MAX_COURTESY_CHARS = 400;

const SENTENCE_PATTERNS: readonly RegExp[] = [
  // thanks and their answers
  /^(many |a lot of )?thanks?( you)?( so much| very much| a lot| again| kindly)?( for .{0,80})?$/,
  /^(you'?re|you are|ur) (very |most |always )?welcome( .{0,40})?$/,
  /^(no problem|no worries|my pleasure|anytime|of course|not at all|sure thing)( at all)?( .{0,40})?$/,
  /^(it was|it'?s been|it has been) (a|my) pleasure( .{0,60})?$/,
  /^(i'?m |i am )?(glad|happy|pleased) (i could|i was able to|to have|to) (help|assist|be of help|be of assistance)( .{0,60})?$/,
  // farewells and wishes
  /^((have|enjoy) )?(a |an |your )?(great|nice|good|wonderful|lovely|safe|pleasant|fantastic|excellent|amazing|happy|restful)?( rest of your)? ?(day|trip|flight|flights|evening|night|weekend|week|time|journey|travels?|stay|holiday|vacation|one)( .{0,40})?$/,
  /^safe (travels|trip|flight|journey)( .{0,80})?$/,
  /^(take your time|get well soon|enjoy)( .{0,80})?$/,
  /^(take care|all the best|best (wishes|regards)|kind regards|cheers|good ?bye|bye|bye for now|see you( soon| later)?|talk (to you )?soon|until next time|farewell)( .{0,100})?$/,
  /^(i )?hope (you|your|everything|it|this|that|things) .{0,80}$/,
  /^wishing you .{0,80}$/,
  /^looking forward to (assisting|helping|hearing from|speaking with|working with) you( .{0,40})?$/,
  // offers of more help
  /^(if|should|whenever|when) you( ever)? (have|need|require|want|think of|'?d like|would like|decide|are ready|'?re ready).{0,160}(feel free|do not hesitate|don'?t hesitate|let me know|reach out|contact us|ask|i'?m here|i am here|i'?ll be here|i will be here|happy to help|glad to help)( .{0,80})?$/,
  /^(if|should) there (is|are|'?s) (anything|something) else.{0,120}$/,
  /^(please )?(feel free|do not hesitate|don'?t hesitate) to (reach out|ask|contact|let me know|get in touch|come back|return).{0,120}$/,
  /^(is there )?(anything|something) else (i can|you need|you would like|you'?d like|i may|we can).{0,80}$/,
  /^(please )?let me know if (you need|there'?s|there is|you have|i can).{0,120}$/,
  /^(i'?m|i am|i'?ll be|i will be) (here|always here|available|happy to help|glad to help)( to (help|assist))?.{0,80}$/,
  // a few common closings in other languages
  /^(gracias|de nada|muchas gracias|merci( beaucoup)?|de rien|danke( sch[oö]n)?|bitte( sch[oö]n)?|gern geschehen|grazie|prego|obrigad[oa]|de nada|adi[oó]s|au revoir|tsch[uü]ss|auf wiedersehen|arrivederci|bonne journ[ée]e|sch[oö]nen tag|buen d[ií]a|que tengas un buen d[ií]a)( .{0,40})?$/,
];

/**
 * The words a closing is made of. A sentence is a pleasantry only when it matches a pattern above
 * AND every word of it is one of these: the patterns' tails are deliberately loose (closings vary),
 * so without this check any sentence that merely opens politely ("Of course, the capital of France
 * is Paris.", "Thank you for waiting, your reservation has been cancelled.", "Take care to close
 * the file handle first.") would be taken for courtesy and dropped from training data. A word
 * outside this list (a noun of the task, a name, an instruction) makes the sentence substance.
 */
const CLOSING_WORDS = new Set(
  `
  a about again all also always am an and any anything anytime are as ask assist assistance assisting
  at available back be been best bit booking bye call can care cheers choosing come contact
  contacting could course day decide did do don't else enjoy ever everything evening excellent
  fantastic farewell feel flight flights flying for forward free from further future get glad go
  goes going good goodbye great had happy has have having hear hearing help helped helpful helping
  helps here hesitate holiday hope hoping i i'd i'll i'm i've if in is it it's journey just kind
  kindly know later let like looking lot lovely many may me more most much my need needs new next
  nice night no not now of on one or other our out patience please pleased pleasant pleasure
  problem problems question questions reach reaching ready regards require rest return 're 'd safe
  see service should smoothly so something soon speak speaking stay sure take talk thank thanks
  that that's the there there's thing things think this time to today too touch travel travels trip
  ur understanding until us using vacation very want was way we we're week weekend welcome well
  whenever when will wish wishes wishing with wonderful working worries would you you'd you'll
  you're your yours yourself restful amazing feel feels better works work proceed details
  reservation reservations booking bookings request requests id ids process change changes
  cancellation information
  gracias de nada muchas merci beaucoup rien danke schön schon bitte gern geschehen grazie prego
  obrigado obrigada adiós adios au revoir tschüss tschuss auf wiedersehen arrivederci bonne journée
  journee schönen schonen tag buen día dia que tengas un
  `
    .split(/\s+/)
    .filter((w) => w !== ''),
);

/** True when every word of a normalised sentence is a closing word. */
function onlyClosingWords(s: string): boolean {
  return s.split(' ').every((w) => CLOSING_WORDS.has(w));
}

/** A sentence normalised for matching: lower case, curly quotes straightened, emoji and trailing punctuation gone. */
function normaliseSentence(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .replace(/[^\p{L}\p{N}'\-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .replace(/[ \-]+$/g, '')
    .trim();
}

/** Sentences of a text: split after . ! ? … and at line breaks; empty pieces dropped. */
function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?…。！？])\s+|\n+/u)
    .map(normaliseSentence)
    .filter((s) => s !== '');
}

/** True when a normalised sentence is a closing: closing words only, in a closing's shape. */
function isClosing(s: string): boolean {
  return onlyClosingWords(s) && SENTENCE_PATTERNS.some((p) => p.test(s));
}

/** True when a sentence is a pleasantry. */
export function isCourtesySentence(sentence: string): boolean {
  const s = normaliseSentence(sentence);
  return s !== '' && isClosing(s);
}

/**
 * True when a text is only pleasantries: short, at least one sentence, and every sentence a
 * closing, a thank-you or an offer of more help. Empty text is not courtesy (it is nothing).
 */
export function isCourtesyText(text: string | null | undefined): boolean {
  if (typeof text !== 'string') return false;
  const t = text.trim();
  if (t === '' || t.length > MAX_COURTESY_CHARS) return false;
  if (/\d/.test(t)) return false; // a number is a fact (a price, an id, a date): substance
  const parts = sentences(t);
  return parts.length > 0 && parts.every(isClosing);
}
