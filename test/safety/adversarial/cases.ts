/**
 * The adversarial corpus: FAKE secrets and personal data written from the providers' and formats'
 * own documentation (token prefixes, lengths and alphabets as each provider documents them; phone
 * numbering plans; IBAN registry; ISO card ranges), not from distill's detectors. Secret bodies
 * come from a seeded generator, so no credential-shaped literal sits in the repository. None is real.
 *
 * Sources of the shapes (public docs): GitHub "About authentication" token prefixes; GitLab "Token
 * prefixes"; Stripe API keys and webhook signatures; Slack token types; AWS IAM access keys; OpenAI
 * and Anthropic API keys; Google API keys; Hugging Face user access tokens; npm access tokens;
 * PyPI API tokens (macaroons, `pypi-AgEIcHlwaS5vcmc`); Databricks personal access tokens (`dapi`);
 * DigitalOcean tokens (`dop_v1_`); Okta API tokens (`SSWS`); HashiCorp Vault tokens (`hvs.`);
 * Twilio auth tokens (32 hex) and API keys (`SK`); Telegram Bot API; Discord webhooks; Azure
 * Storage SAS; SendGrid (`SG.`); Shopify (`shpat_`); Linear (`lin_api_`); Doppler (`dp.pt.`);
 * Pulumi (`pul-`); Postman (`PMAK-`); Grafana service accounts (`glsa_`); New Relic (`NRAK-`);
 * age (`AGE-SECRET-KEY-1`); PlanetScale (`pscale_tkn_`); Atlassian (`ATATT3`); Sentry; PEM
 * (RFC 7468), OpenSSH, PuTTY (.ppk v3) and OpenPGP key blocks; RFC 3986 userinfo; RFC 7617 Basic
 * and RFC 6750 Bearer credentials; gitleaks' and secretlint's rule documentation.
 */
import { fakeChars } from '../fakes.ts';

const c = fakeChars(1871);
const HEX = '0123456789abcdef';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}-_`;
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const wrap = (s: string, n: number): string => s.replace(new RegExp(`(.{${n}})`, 'g'), '$1\n').trim();

/** A secret kind: its family and a sample in the context its documentation shows. */
export interface SecretKind {
  kind: string;
  family: 'provider' | 'generic' | 'url' | 'header' | 'private-key';
  /** The secret itself. */
  secret: string;
  /** The line it appears in, as the provider's docs or a typical config show it. */
  context: string;
}

function pem(type: string): string {
  const body = wrap(c(64 * 12, B64), 64);
  return `-----BEGIN ${type}-----\n${body}\n-----END ${type}-----`;
}

/** 55+ secret kinds over 50+ providers and kinds. */
export function secretKinds(): SecretKind[] {
  const k = (
    kind: string,
    family: SecretKind['family'],
    secret: string,
    context: (s: string) => string,
  ): SecretKind => ({
    kind,
    family,
    secret,
    context: context(secret),
  });
  const gh = (p: string): string => `${p}_${c(36)}`;
  const list: SecretKind[] = [
    k(
      'gitlab-pat',
      'provider',
      `glpat-${c(20, `${ALNUM}_-`)}`,
      (s) => `git remote set-url origin https://oauth2:${s}@gitlab.example.org/g/p.git`,
    ),
    k('gitlab-pat-plain', 'provider', `glpat-${c(20)}`, (s) => `Your personal access token: ${s}`),
    k(
      'gitlab-runner',
      'provider',
      `glrt-${c(20, `${ALNUM}_-`)}`,
      (s) => `gitlab-runner register --token ${s}`,
    ),
    k('github-pat', 'provider', gh('ghp'), (s) => `export GITHUB_TOKEN=${s}`),
    k('github-oauth', 'provider', gh('gho'), (s) => `token ${s}`),
    k('github-app', 'provider', gh('ghs'), (s) => `installation token ${s} expires in 1h`),
    k('github-refresh', 'provider', gh('ghr'), (s) => `refresh_token=${s}`),
    k('github-fine-grained', 'provider', `github_pat_${c(22)}_${c(59)}`, (s) => `GH_TOKEN="${s}"`),
    k('stripe-secret', 'provider', `sk_live_${c(99).slice(0, 24)}`, (s) => `Stripe.api_key = '${s}'`),
    k('stripe-restricted', 'provider', `rk_live_${c(24)}`, (s) => `STRIPE_KEY=${s}`),
    k('stripe-webhook', 'provider', `whsec_${c(32)}`, (s) => `endpoint signing secret is ${s}`),
    k(
      'aws-access-key',
      'provider',
      `AKIA${c(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
      (s) => `aws_access_key_id = ${s}`,
    ),
    k('aws-secret-key', 'provider', c(40, B64), (s) => `aws_secret_access_key = ${s}`),
    k(
      'openai',
      'provider',
      `sk-proj-${c(74, `${ALNUM}_-`)}T3BlbkFJ${c(74, `${ALNUM}_-`)}`,
      (s) => `client = OpenAI(api_key="${s}")`,
    ),
    k('anthropic', 'provider', `sk-ant-api03-${c(93, `${ALNUM}_-`)}AA`, (s) => `ANTHROPIC_API_KEY=${s}`),
    k(
      'google-api',
      'provider',
      `AIza${c(35, `${ALNUM}_-`)}`,
      (s) => `https://maps.googleapis.com/maps/api/geocode/json?key=${s}`,
    ),
    k(
      'huggingface',
      'provider',
      `hf_${c(34, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')}`,
      (s) => `huggingface-cli login --token ${s}`,
    ),
    k('npm', 'provider', `npm_${c(36)}`, (s) => `//registry.npmjs.org/:_authToken=${s}`),
    k('pypi', 'provider', `pypi-AgEIcHlwaS5vcmc${c(70, `${ALNUM}_-`)}`, (s) => `password = ${s}`),
    k('databricks', 'provider', `dapi${c(32, HEX)}`, (s) => `DATABRICKS_TOKEN: ${s}`),
    k('digitalocean', 'provider', `dop_v1_${c(64, HEX)}`, (s) => `doctl auth init -t ${s}`),
    k('okta', 'header', `00${c(40, `${ALNUM}_-`)}`, (s) => `Authorization: SSWS ${s}`),
    k('vault', 'provider', `hvs.${c(95, `${ALNUM}_-`)}`, (s) => '```\n$ vault login ' + s + '\n```'),
    k('twilio-auth-token', 'generic', c(32, HEX), (s) => `TWILIO_AUTH_TOKEN=${s}`),
    k('twilio-api-key', 'provider', `SK${c(32, HEX)}`, (s) => `twilio api key ${s}`),
    k(
      'telegram-bot',
      'provider',
      `${c(10, '0123456789').replace(/^0/, '5')}:AA${c(33, `${ALNUM}_-`)}`,
      (s) => `curl https://api.telegram.org/bot${s}/sendMessage`,
    ),
    k(
      'discord-webhook',
      'url',
      `${c(68, `${ALNUM}_-`)}`,
      (s) => `https://discord.com/api/webhooks/1234567890123456789/${s}`,
    ),
    k(
      'slack-bot',
      'provider',
      `xoxb-${c(11, '0123456789')}-${c(12, '0123456789')}-${c(24)}`,
      (s) => `SLACK_BOT_TOKEN=${s}`,
    ),
    k(
      'slack-webhook',
      'url',
      `T${c(10, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}/B${c(10, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}/${c(24)}`,
      (s) => `https://hooks.slack.com/services/${s}`,
    ),
    k(
      'azure-sas',
      'url',
      `${c(43, B64)}%3D`,
      (s) =>
        `https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01T00:00:00Z&sig=${s}`,
    ),
    k(
      'sendgrid',
      'provider',
      `SG.${c(22, `${ALNUM}_-`)}.${c(43, `${ALNUM}_-`)}`,
      (s) => `SENDGRID_API_KEY='${s}'`,
    ),
    k('shopify', 'provider', `shpat_${c(32, HEX)}`, (s) => `X-Shopify-Access-Token: ${s}`),
    k('linear', 'provider', `lin_api_${c(40)}`, (s) => `linear key ${s}`),
    k('doppler', 'provider', `dp.pt.${c(43)}`, (s) => `DOPPLER_TOKEN=${s}`),
    k('pulumi', 'provider', `pul-${c(40, HEX)}`, (s) => `PULUMI_ACCESS_TOKEN=${s}`),
    k('postman', 'provider', `PMAK-${c(24, HEX)}-${c(34, HEX)}`, (s) => `x-api-key: ${s}`),
    k('grafana-sa', 'provider', `glsa_${c(32)}_${c(8, HEX)}`, (s) => `grafana token ${s}`),
    k(
      'newrelic',
      'provider',
      `NRAK-${c(27, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`,
      (s) => `NEW_RELIC_API_KEY=${s}`,
    ),
    k(
      'age',
      'provider',
      `AGE-SECRET-KEY-1${c(58, 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L')}`,
      (s) => `# created: 2024\n${s}`,
    ),
    k('planetscale', 'provider', `pscale_tkn_${c(43, `${ALNUM}_-`)}`, (s) => `PLANETSCALE_TOKEN=${s}`),
    k('atlassian', 'provider', `ATATT3${c(186, `${ALNUM}_-`)}`, (s) => `jira token ${s}`),
    k('mailchimp', 'provider', `${c(32, HEX)}-us12`, (s) => `mailchimp_api_key = "${s}"`),
    k(
      'jwt',
      'provider',
      `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(`{"sub":"${c(8)}","iat":1716000000}`).toString('base64url')}.${c(43, B64URL)}`,
      (s) => `cookie session=${s}`,
    ),
    k('db-password-env', 'generic', `Tr0ub4dor&3!${c(4)}`, (s) => `DB_PASSWORD=${s}`),
    k('json-password', 'generic', `p@$$w0rd-${c(6)}!`, (s) => `{"username": "svc", "password": "${s}"}`),
    k('yaml-password', 'generic', `Zq9#${c(10)}`, (s) => `database:\n  host: db\n  password: "${s}"`),
    k('german-passwort', 'generic', `Sommer2024!${c(3)}`, (s) => `Passwort: ${s}`),
    k('client-secret', 'generic', c(40, `${ALNUM}~._-`), (s) => `client_secret = "${s}"`),
    k('bearer-hex', 'header', c(40, HEX), (s) => `Authorization: Bearer ${s}`),
    k('basic-auth', 'header', b64(`deploy:${c(14)}`), (s) => `Authorization: Basic ${s}`),
    k('curl-user', 'header', `${c(16)}`, (s) => `curl -u admin:${s} https://ci.example.org/api`),
    k('redis-url', 'url', c(20), (s) => `REDIS_URL=redis://:${s}@cache.internal:6379/0`),
    k('amqp-url', 'url', c(18), (s) => `amqp://worker:${s}@mq.internal:5672/vhost`),
    k(
      'sqlalchemy-url',
      'url',
      `${c(12)}!x`,
      (s) => `SQLALCHEMY_DATABASE_URI = "postgresql+psycopg2://app:${s}@db.internal/app"`,
    ),
    k('mongodb-srv', 'url', c(16), (s) => `mongodb+srv://admin2:${s}@cluster0.abcd.mongodb.net/test`),
    k('smtp-url', 'url', c(16), (s) => `EMAIL_URL=smtp://mailer:${s}@smtp.example.org:587`),
    k('rsa-key', 'private-key', pem('RSA PRIVATE KEY'), (s) => s),
    k('openssh-key', 'private-key', pem('OPENSSH PRIVATE KEY'), (s) => s),
    k('ec-key', 'private-key', pem('EC PRIVATE KEY'), (s) => s),
    k('pgp-key', 'private-key', pem('PGP PRIVATE KEY BLOCK'), (s) => s),
    k(
      'putty-ppk',
      'private-key',
      `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\nPublic-Lines: 2\n${wrap(c(80, B64), 64)}\nPrivate-Lines: 1\n${c(44, B64)}\nPrivate-MAC: ${c(64, HEX)}`,
      (s) => s,
    ),
  ];
  return list;
}

/** How a secret (or personal-data item) is written: the encodings a trace can carry. */
export const ENCODINGS: Record<string, (text: string, secret: string) => string> = {
  plain: (t) => t,
  'zero-width (U+200B) inside': (t, s) => t.replace(s, s.slice(0, 6) + '\u200b' + s.slice(6)),
  'word joiner (U+2060) inside': (t, s) => t.replace(s, s.slice(0, 5) + '\u2060' + s.slice(5)),
  'soft hyphens inside': (t, s) =>
    t.replace(s, s.slice(0, 4) + '\u00ad' + s.slice(4, 9) + '\u00ad' + s.slice(9)),
  'HTML entities': (t, s) =>
    t.replace(s, [...s.slice(0, 3)].map((ch) => `&#${ch.charCodeAt(0)};`).join('') + s.slice(3)),
  'fullwidth letters': (t, s) =>
    t.replace(
      s,
      [...s.slice(0, 8)]
        .map((ch) => (/[!-~]/.test(ch) ? String.fromCharCode(ch.charCodeAt(0) + 0xfee0) : ch))
        .join('') + s.slice(8),
    ),
  'JSON \\u escapes': (t, s) =>
    t.replace(
      s,
      [...s.slice(0, 4)].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).join('') +
        s.slice(4),
    ),
  'percent-encoded': (t) => encodeURIComponent(t),
  hex: (t) => `payload (hex): ${Buffer.from(t).toString('hex')}`,
  base64: (t) => `config blob: ${b64(t)}`,
  'base64 wrapped at 76': (t) =>
    `-----BEGIN BLOB-----\n${wrap(b64(`${t}\n${'padding line '.repeat(6)}`), 76)}\n-----END BLOB-----`,
  'base64 three times': (t) => `data: ${b64(b64(b64(t)))}`,
  'JSON in a JSON string': (t) => JSON.stringify(JSON.stringify({ env: t })),
};

/** Where a secret is put in a training unit. */
export const PLACES = [
  'system prompt',
  'user turn',
  'tool arguments',
  'tool result',
  'knowledge document',
  'pairwise judgment',
  'task_key id',
] as const;
export type Place = (typeof PLACES)[number];

/** Personal-data cases by locale: the item as written, the context, and the type it must be redacted as. */
export interface PiiCase {
  locale: string;
  type: string;
  item: string;
  text: string;
}

export function piiCases(): PiiCase[] {
  const p = (locale: string, type: string, item: string, text: (i: string) => string): PiiCase => ({
    locale,
    type,
    item,
    text: text(item),
  });
  return [
    // e-mail, incl. IDN and encodings
    p('US', 'EMAIL_ADDRESS', 'jordan.reyes@example.com', (i) => `Reach me at ${i} please`),
    p('DE', 'EMAIL_ADDRESS', 'jürgen.müller@beispiel.de', (i) => `Kontakt: ${i}`),
    p('DE', 'EMAIL_ADDRESS', 'info@münchen-reisen.de', (i) => `Schreiben Sie an ${i}.`),
    p('JP', 'EMAIL_ADDRESS', 'yamada@例え.jp', (i) => `連絡先 ${i} まで`),
    p('RU', 'EMAIL_ADDRESS', 'ivan@почта.рф', (i) => `почта: ${i}`),
    p('CN', 'EMAIL_ADDRESS', '用户@例子.中国', (i) => `邮箱 ${i}`),
    p('US', 'EMAIL_ADDRESS', 'alice%40example.com', (i) => `https://app.example.com/invite?email=${i}&x=1`),
    p('US', 'EMAIL_ADDRESS', 'alice\\u0040example.org', (i) => `{"note": "mail ${i} the receipt"}`),
    p('FR', 'EMAIL_ADDRESS', 'c&#233;line.dupont&#64;exemple.fr', (i) => `<p>Écrire à ${i}</p>`),
    p('GB', 'EMAIL_ADDRESS', 'ｏｌｉｖｅｒ＠ｅｘａｍｐｌｅ．ｃｏ．ｕｋ', (i) => `email ${i}`),
    // phones by region
    p('US', 'PHONE_NUMBER', '(415) 867-5309', (i) => `call me at ${i}`),
    p('US', 'PHONE_NUMBER', '+1 212-736-5000', (i) => `office ${i}`),
    p('GB', 'PHONE_NUMBER', '020 7946 0018', (i) => `ring ${i} after 6`),
    p('GB', 'PHONE_NUMBER', '07700 900461', (i) => `mobile: ${i}`),
    p('GB', 'PHONE_NUMBER', '0044 20 7946 0018', (i) => `from abroad ${i}`),
    p('DE', 'PHONE_NUMBER', '030 12345678', (i) => `Telefon ${i}`),
    p('DE', 'PHONE_NUMBER', '+49/30/12345678', (i) => `Tel. ${i}`),
    p('DE', 'PHONE_NUMBER', '0151 23456789', (i) => `Handy: ${i}`),
    p('FR', 'PHONE_NUMBER', '01 42 68 53 00', (i) => `téléphone ${i}`),
    p('FR', 'PHONE_NUMBER', '06\u00a012\u00a034\u00a056\u00a078', (i) => `portable ${i}`),
    p('IN', 'PHONE_NUMBER', '098765 43210', (i) => `phone ${i}`),
    p('IN', 'PHONE_NUMBER', '+91 98765 43210', (i) => `WhatsApp ${i}`),
    p('JP', 'PHONE_NUMBER', '03-1234-5678', (i) => `電話 ${i}`),
    p('JP', 'PHONE_NUMBER', '090-1234-5678', (i) => `携帯 ${i}`),
    p('BR', 'PHONE_NUMBER', '(11) 91234-5678', (i) => `celular ${i}`),
    p('BR', 'PHONE_NUMBER', '+55 21 2345-6789', (i) => `telefone ${i}`),
    p('AU', 'PHONE_NUMBER', '(02) 9374 4000', (i) => `phone ${i}`),
    p('AU', 'PHONE_NUMBER', '0412 345 678', (i) => `mobile ${i}`),
    p('ES', 'PHONE_NUMBER', '+34 912 34 56 78', (i) => `teléfono ${i}`),
    p('IT', 'PHONE_NUMBER', '+39 06 6982 1234', (i) => `telefono ${i}`),
    p('NL', 'PHONE_NUMBER', '020-123 4567', (i) => `bel ${i}`),
    p('CH', 'PHONE_NUMBER', '+41 44 668 18 00', (i) => `Telefon ${i}`),
    p('MX', 'PHONE_NUMBER', '+52 55 1234 5678', (i) => `teléfono ${i}`),
    p('US', 'PHONE_NUMBER', '415.867.5309', (i) => `tel ${i}`),
    p('US', 'PHONE_NUMBER', '4158675309', (i) => `phone number: ${i}`),
    // cards
    p('US', 'CREDIT_CARD', '4111 1111 1111 1111', (i) => `card ${i} exp 12/29`),
    p('US', 'CREDIT_CARD', '5555-5555-5555-4444', (i) => `Mastercard ${i}`),
    p('GB', 'CREDIT_CARD', '4000.0566.5566.5556', (i) => `card no ${i}`),
    p('FR', 'CREDIT_CARD', '3782\u00a0822463\u00a010005', (i) => `Amex ${i}`),
    p('US', 'CREDIT_CARD', '4012888888881881', (i) => `{"card_on_file": ${i}, "amount": 120}`),
    p('DE', 'CREDIT_CARD', '6011111111111117', (i) => `Karte ${i}`),
    // IBAN
    p('DE', 'IBAN_CODE', 'DE89 3704 0044 0532 0130 00', (i) => `IBAN: ${i}`),
    p('DE', 'IBAN_CODE', 'de89370400440532013000', (i) => `iban ${i}`),
    p('FR', 'IBAN_CODE', 'FR14 2004 1010 0505 0001 3M02 606', (i) => `RIB ${i}`),
    p('GB', 'IBAN_CODE', 'GB29 NWBK 6016 1331 9268 19', (i) => `pay to ${i}`),
    p('ES', 'IBAN_CODE', 'ES91 2100 0418 4502 0005 1332', (i) => `cuenta ${i}`),
    p('IT', 'IBAN_CODE', 'IT60 X054 2811 1010 0000 0123 456', (i) => `conto ${i}`),
    p('NL', 'IBAN_CODE', 'NL91ABNA0417164300', (i) => `rekening ${i}`),
    p('CH', 'IBAN_CODE', 'CH93 0076 2011 6238 5295 7', (i) => `Konto ${i}`),
    // national ids
    p('US', 'US_SSN', '536-22-8726', (i) => `SSN ${i}`),
    p('US', 'US_SSN', '536228726', (i) => `social security number: ${i}`),
    p('GB', 'NATIONAL_ID', 'JH 12 34 56 C', (i) => `NI number ${i}`),
    // addresses
    p('US', 'STREET_ADDRESS', '747 Maple Drive', (i) => `Amelia Rossi, ${i}, dob 1960-01-19`),
    p('US', 'STREET_ADDRESS', '1600 Pennsylvania Avenue', (i) => `ship to ${i} NW, Washington`),
    p('GB', 'STREET_ADDRESS', '221B Baker Street', (i) => `lives at ${i}, London`),
    p('AU', 'STREET_ADDRESS', '42 Wallaby Way', (i) => `address: ${i}, Sydney`),
    p('DE', 'STREET_ADDRESS', 'Hauptstraße 5', (i) => `Adresse: ${i}, 10115 Berlin`),
    p('DE', 'STREET_ADDRESS', 'Lindenweg 12a', (i) => `wohnt ${i}`),
    p('FR', 'STREET_ADDRESS', '12 rue de la Paix', (i) => `adresse ${i}, 75002 Paris`),
    p('ES', 'STREET_ADDRESS', 'Calle Mayor 3', (i) => `dirección: ${i}, Madrid`),
    p('IT', 'STREET_ADDRESS', 'Via Roma 10', (i) => `indirizzo ${i}, Milano`),
    p('BR', 'STREET_ADDRESS', 'Rua Augusta, 55', (i) => `endereço ${i}, São Paulo`),
    p('NL', 'STREET_ADDRESS', 'Keizersgracht 123', (i) => `adres ${i}, Amsterdam`),
    p('JP', 'STREET_ADDRESS', '東京都千代田区丸の内1丁目1番1号', (i) => `住所 ${i}`),
    // dates of birth
    p('US', 'DATE_OF_BIRTH', '1960-01-19', (i) => `Amelia Rossi, dob ${i}`),
    p('US', 'DATE_OF_BIRTH', 'January 19, 1960', (i) => `born on ${i} in Ohio`),
    p('DE', 'DATE_OF_BIRTH', '19.01.1960', (i) => `geboren am ${i}`),
    p('FR', 'DATE_OF_BIRTH', '19/01/1960', (i) => `née le ${i}`),
    p('ES', 'DATE_OF_BIRTH', '19 enero 1960', (i) => `fecha de nacimiento: ${i}`),
    p('GB', 'DATE_OF_BIRTH', '19/01/1960', (i) => `Date of birth: ${i}`),
    // names by cue
    p('US', 'PERSON', 'Amelia Rossi', (i) => `My name is ${i} and I need to change my flight`),
    p('GB', 'PERSON', 'Oliver Bennett', (i) => `Dear ${i},`),
    p('DE', 'PERSON', 'Jürgen Müller', (i) => `Herr ${i} hat angerufen`),
    p('FR', 'PERSON', 'Céline Dupont', (i) => `Je m'appelle ${i}.`),
    p('ES', 'PERSON', 'Lucía Fernández', (i) => `Me llamo ${i}.`),
    p('US', 'PERSON', 'Jane Roe', (i) => `From: ${i} <jane.roe@example.net>`),
    // field-aware structured data (tau-bench style)
    p(
      'US',
      'PERSON',
      'Mia',
      (i) => `{"name": {"first_name": "${i}", "last_name": "Li"}, "email": "mia.li3818@example.com"}`,
    ),
    p(
      'US',
      'POSTAL_CODE',
      '78750',
      (i) => `{"address": {"address1": "975 Sunset Drive", "city": "Austin", "zip": "${i}"}}`,
    ),
    p('US', 'DATE_OF_BIRTH', '1990-04-05', (i) => `{"user_id": "u1", "dob": "${i}"}`),
    p('US', 'PERSON', 'Noah Kim', (i) => `{"passengers": [{"name": "${i}", "date_of_birth": "1985-02-03"}]}`),
    p('GB', 'PHONE_NUMBER', '7700900461', (i) => `{"phone": ${i}}`),
    p('US', 'US_SSN', '536-22-8726', (i) => `{"customer": {"ssn": "${i}"}}`),
    p('IN', 'STREET_ADDRESS', '12 MG Road', (i) => `{"shipping_address": "${i}, Bengaluru"}`),
    p('JP', 'PERSON', '山田太郎', (i) => `{"full_name": "${i}", "tel": "03-1234-5678"}`),
  ];
}

/** Benign look-alikes: text that resembles a secret or personal data and is neither. */
export function benignCases(): { family: string; text: string }[] {
  const b = (family: string, text: string) => ({ family, text });
  const sha = c(40, HEX);
  return [
    b('version', 'upgraded to 1.2.3.4 last night'),
    b('version', 'Windows build 10.0.19045.3803'),
    b('version', 'numpy==1.26.4, torch 2.3.1+cu121'),
    b('version', 'release v4.12.0.1 is out'),
    b('version', 'firmware 3.1.4.15 installed'),
    b('build-id', 'build 2024.05.15.1042 passed'),
    b('build-id', 'artifact 7.3.0.2241-rc1'),
    b('order-id', 'Your order 4829301756 has shipped'),
    b('order-id', 'Order #1234567890 confirmed'),
    b('order-id', 'invoice no. 2024-000123-45'),
    b('order-id', 'tracking number 1Z999AA10123456784'),
    b('order-id', 'reservation ZFA04Y, order id 9876543210'),
    b('sku', 'SKU 400-1234-5678-90 in stock'),
    b('sku', 'item 8801234567890 (EAN)'),
    b('sku', 'ISBN 978-3-16-148410-0'),
    b('git-sha', `token_commit: ${sha}`),
    b('git-sha', `commit ${sha} fixes the token refresh`),
    b('git-sha', `key: ${c(40, HEX)} (git object)`),
    b('uuid', 'idempotency key: 3f1e8a52-9c4b-4e7a-8f0d-2b6c1a9e7d45'),
    b('uuid', 'request_id=6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
    b('uuid', '{"key": "550e8400-e29b-41d4-a716-446655440000", "value": 3}'),
    b('timestamp', 'created 1716220800 (epoch), updated 2024-05-20T16:00:00Z'),
    b('timestamp', 'ts=1716220800123'),
    b('hash', `sha256 checksum ${c(64, HEX)}`),
    b('hash', `cache_key = ${c(32, HEX)}`),
    b('hash', `etag: "${c(32, HEX)}"`),
    b('placeholder', 'password: ********'),
    b('placeholder', 'api_key = "YOUR_API_KEY_HERE"'),
    b('placeholder', 'token: <redacted>'),
    b('placeholder', 'Authorization: Bearer $TOKEN'),
    b('placeholder', 'Authorization: Bearer <token>'),
    b('placeholder', 'DATABASE_URL=postgres://user:${DB_PASSWORD}@db:5432/app'),
    b('placeholder', 'password = os.environ["DB_PASSWORD"]'),
    b('placeholder', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE'),
    b('code', 'def check_password(password: str) -> bool:'),
    b('code', 'max_tokens: 1024, prompt_tokens: 77'),
    b('code', 'const token = await getToken(req);'),
    b(
      'code',
      JSON.stringify({
        path: 'tests/test_x.py',
        content: 'import pytest\n\n@pytest.mark.skipif(True, reason="x")\ndef test_a():\n    pass\n',
      }),
    ),
    b('code', '"\\n@app.route(\\"/login\\")\\ndef login():"'),
    b('code', 'obj@self.assert_called_once()'),
    b('url', 'redis://localhost:6379/0 and https://example.com:8443/path'),
    b('url', 'git@github.com:acme/repo.git'),
    b('url', 'https://user@example.com/repo.git'),
    b('network', 'connect ECONNREFUSED 127.0.0.1:5432; also 10.0.0.12 and 192.168.1.20'),
    b('network', 'docs use 203.0.113.7 and 2001:db8::1'),
    b('network', 'MAC 00:1A:2B:3C:4D:5E'),
    b('number', 'total $1,234,567.89 (12.5%)'),
    b('number', 'coordinates 37.7749, -122.4194'),
    b('number', 'card 4111 1111 1111 1112 (fails Luhn)'),
    b('number', 'IBAN DE89 3704 0044 0532 0130 01 (bad checksum)'),
    b('number', 'SSN 000-12-3456 is invalid, so is 666-12-3456'),
    b('number', 'call count 5551234 this week'),
    b('date', 'due 05/06/2024, meeting 2024-05-15 12:30:45'),
    b('date', 'released on January 19, 1960'),
    b('names', 'Water Bottle costs $12; Street Fighter 2 is a game'),
    b('names', '{"name": "search_flights", "arguments": {"origin": "JFK", "city": "Austin"}}'),
    b('names', '{"name": "T-Shirt", "price": 12, "options": {"color": "blue"}}'),
    b('names', 'The Main Street branch opens at 9'),
    b('jwt-like', `eyJ${c(20)}.eyJ${c(20)}.${c(20)} is not a JWT`),
    b(
      'base64',
      `image: data:image/png;base64,${Buffer.from(Array.from({ length: 60 }, (_, i) => (i * 37) % 256)).toString('base64')}`,
    ),
    b('short', 'sk-proj-short is a truncated example'),
    b('short', 'ghp_ prefix means a GitHub PAT'),
    b('email-like', 'pkg@1.2.3 and user@localhost and @property'),
  ];
}
