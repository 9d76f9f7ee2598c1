import ipaddr from 'ipaddr.js';
import { isPlaceholder } from './placeholders.ts';
import type { PiiType } from './pii-types.ts';

/**
 * Field-aware detection in structured data (tool arguments and results held as JSON text): a value
 * under a key that names personal data is personal data whatever it looks like (`"first_name":
 * "Amelia"`, `"zip": "78750"`, `"dob": "1960-01-19"`). Keys are compared lowercased with `-`, ` `
 * and camelCase folded to `_`. A bare `name` is a person only where the object is about a person
 * (its parent key names one, or a sibling holds an e-mail, phone, date of birth or address); a
 * `city` or a postal code only inside an address object — a flight search's `"city": "Austin"` is
 * not personal data.
 */

const norm = (k: string): string =>
  k
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[-\s.]+/g, '_');

const PERSON_KEYS = new Set(
  'first_name firstname last_name lastname full_name fullname given_name givenname family_name familyname surname middle_name maiden_name passenger_name customer_name cardholder card_holder cardholder_name card_holder_name holder_name account_holder account_holder_name contact_name patient_name employee_name recipient_name sender_name billing_name shipping_name guest_name traveler_name traveller_name user_full_name display_name_full nombre apellido apellidos vorname nachname prenom prénom nom_de_famille cognome nome sobrenome'.split(
    ' ',
  ),
);
const PERSON_PARENTS = new Set(
  'passenger passengers customer customers user users contact contacts person people patient employee guest guests traveler travelers traveller travellers recipient sender cardholder owner holder member members applicant driver beneficiary client account_holder'.split(
    ' ',
  ),
);
const ADDRESS_KEYS = new Set(
  'address address1 address2 address_1 address_2 address_line address_line1 address_line2 address_line_1 address_line_2 street street_address street1 street2 line1 line2 addr home_address billing_address shipping_address mailing_address residential_address strasse straße adresse direccion dirección indirizzo endereco endereço'.split(
    ' ',
  ),
);
const POSTAL_KEYS = new Set(
  'zip zipcode zip_code postal_code postalcode postcode post_code plz cep pincode pin_code'.split(' '),
);
const CITY_KEYS = new Set('city town locality suburb ort ville ciudad città cidade'.split(' '));
const DOB_KEYS = new Set(
  'dob date_of_birth dateofbirth birthdate birth_date birthday geburtsdatum fecha_nacimiento fecha_de_nacimiento date_naissance date_de_naissance data_nascimento data_di_nascita'.split(
    ' ',
  ),
);
const SSN_KEYS = new Set('ssn social_security_number social_security_no us_ssn'.split(' '));
const NATIONAL_ID_KEYS = new Set(
  'national_id national_id_number passport passport_number passport_no driver_license driver_licence drivers_license driving_licence license_number licence_number tax_id tin nin nino national_insurance_number aadhaar aadhaar_number cpf dni nif nie codice_fiscale personnummer steuer_id steueridentifikationsnummer sin insee numero_secu'.split(
    ' ',
  ),
);
const PHONE_KEYS = new Set(
  'phone phone_number phonenumber mobile mobile_number cell cell_phone cellphone telephone tel fax whatsapp contact_number telefon handy telefono teléfono celular'.split(
    ' ',
  ),
);
const EMAIL_KEYS = new Set('email e_mail email_address mail emailaddress contact_email'.split(' '));
const CARD_KEYS = new Set(
  'card_number cardnumber cc_number credit_card_number creditcard_number pan'.split(' '),
);
const IBAN_KEYS = new Set(['iban', 'iban_code']);
const IP_KEYS = new Set(
  'ip ip_address ipaddress client_ip remote_ip remote_addr source_ip src_ip dst_ip destination_ip user_ip visitor_ip x_forwarded_for forwarded_for'.split(
    ' ',
  ),
);

/** Sibling keys that make an object about a person. */
const PERSONAL_SIBLINGS = new Set([
  ...EMAIL_KEYS,
  ...PHONE_KEYS,
  ...DOB_KEYS,
  ...ADDRESS_KEYS,
  ...PERSON_KEYS,
  ...SSN_KEYS,
]);

/** Where a value sits: its key, its parent object's key and its sibling keys. */
export interface FieldContext {
  key: string;
  parentKey: string | null;
  siblings: readonly string[];
  /** True when an enclosing object is an address. */
  inAddress: boolean;
}

/** The PII type a field's value is by its key, or null when the key says nothing. */
export function fieldType(ctx: FieldContext): PiiType | null {
  const k = norm(ctx.key);
  const parent = ctx.parentKey === null ? null : norm(ctx.parentKey);
  if (PERSON_KEYS.has(k)) return 'PERSON';
  if (k === 'name' || k === 'full_name') {
    const personal =
      (parent !== null && PERSON_PARENTS.has(parent)) ||
      ctx.siblings.some((s) => PERSONAL_SIBLINGS.has(norm(s)));
    return personal ? 'PERSON' : null;
  }
  if (PERSON_PARENTS.has(k) && k !== 'user' && k !== 'users' && k !== 'owner' && k !== 'client')
    return 'PERSON';
  if (DOB_KEYS.has(k)) return 'DATE_OF_BIRTH';
  if (SSN_KEYS.has(k)) return 'US_SSN';
  if (NATIONAL_ID_KEYS.has(k)) return 'NATIONAL_ID';
  if (EMAIL_KEYS.has(k)) return 'EMAIL_ADDRESS';
  if (PHONE_KEYS.has(k)) return 'PHONE_NUMBER';
  if (CARD_KEYS.has(k)) return 'CREDIT_CARD';
  if (IBAN_KEYS.has(k)) return 'IBAN_CODE';
  if (IP_KEYS.has(k)) return 'IP_ADDRESS';
  if (ADDRESS_KEYS.has(k)) return 'STREET_ADDRESS';
  if (ctx.inAddress || (parent !== null && ADDRESS_KEYS.has(parent))) {
    if (POSTAL_KEYS.has(k)) return 'POSTAL_CODE';
    if (CITY_KEYS.has(k)) return 'LOCATION';
  }
  if (POSTAL_KEYS.has(k) && ctx.siblings.some((s) => ADDRESS_KEYS.has(norm(s)) || CITY_KEYS.has(norm(s))))
    return 'POSTAL_CODE';
  return null;
}

/** True when a key opens an address object (its members are read with `inAddress`). */
export const isAddressKey = (key: string): boolean => ADDRESS_KEYS.has(norm(key));

/** True when a field value should be replaced by its type's placeholder (not empty, not a placeholder or a plain flag). */
export function fieldValueIsData(type: PiiType, value: string): boolean {
  const v = value.trim();
  if (v === '' || isPlaceholder(v) || /^<[A-Z_]+>$/.test(v)) return false;
  if (type === 'PHONE_NUMBER') return (v.match(/\d/g)?.length ?? 0) >= 6;
  if (type === 'EMAIL_ADDRESS') return v.includes('@');
  if (type === 'IP_ADDRESS') return ipaddr.isValid(v) && ipaddr.parse(v).range() === 'unicast'; // public only
  if (type === 'CREDIT_CARD') return (v.match(/\d/g)?.length ?? 0) >= 12;
  if (type === 'PERSON') return /^[\p{L}\p{M}' .,-]{2,100}$/u.test(v) && /\p{L}/u.test(v);
  return true;
}
