// Deterministic generator of the `make demo` sample data set (data/sample/).
//
//   cd data && npm install && node generate.mjs && node check.mjs
//
// Same package versions (package.json pins them exactly) + same seed = the
// same bytes. Every random choice goes through the seeded faker instances;
// nothing reads the clock (the reference date is fixed: 2026-11-01).
//
// The build never runs node: the generated files are committed.

import {
  faker, fakerEN_US, fakerEN_GB, fakerDE, fakerFR, fakerEN_IN, fakerEN_AU,
  fakerEN_CA, fakerNL, fakerES, fakerPT_BR
} from '@faker-js/faker'
import { parsePhoneNumberFromString } from 'libphonenumber-js/max'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { domainToASCII, fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
const OUT = join(here, 'sample')
mkdirSync(OUT, { recursive: true })

const SEED = 20261101
const REF = new Date('2026-11-01T00:00:00Z')
const COMPANY_DOMAIN = 'leadflow-demo.com'

const LOCALES = [faker, fakerEN_US, fakerEN_GB, fakerDE, fakerFR, fakerEN_IN, fakerEN_AU, fakerEN_CA, fakerNL, fakerES, fakerPT_BR]
LOCALES.forEach((f, i) => { f.seed(SEED + i); f.setDefaultRefDate(REF) })

const FREE = new Set(readFileSync(join(here, 'free_email_domains.txt'), 'utf8').split('\n').filter(Boolean))

// ---------------------------------------------------------------------------
// random helpers (all through the seeded `faker`)

const int = (min, max) => faker.number.int({ min, max })
const rnd = () => faker.number.float({ min: 0, max: 1, fractionDigits: 6 })
const chance = p => rnd() < p
const pick = a => a[int(0, a.length - 1)]
const wpick = pairs => faker.helpers.weightedArrayElement(pairs.map(([value, weight]) => ({ value, weight })))
const digits = n => faker.string.numeric({ length: n, allowLeadingZeros: true })
const shuffle = a => faker.helpers.shuffle(a)
const pad2 = n => String(n).padStart(2, '0')
const iso = d => d.toISOString().replace(/\.\d{3}Z$/, 'Z')
const daysBefore = (days, d = REF) => new Date(d.getTime() - days * 86400000)

// ---------------------------------------------------------------------------
// text helpers

function translit (s) {
  return s.replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue')
    .replace(/Ä/g, 'ae').replace(/Ö/g, 'oe').replace(/Ü/g, 'ue').replace(/ß/g, 'ss')
    .normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
}
const slug = s => translit(s).replace(/[^a-z0-9]+/g, '')
const slugDash = s => translit(s).replace(/&/g, ' ').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')

// What the engine is expected to compute (contract §5.2), used here only to
// keep distinct people distinct and to plan duplicates.
function normEmail (e) {
  e = e.trim().toLowerCase()
  const at = e.lastIndexOf('@')
  let local = e.slice(0, at)
  const dom = domainToASCII(e.slice(at + 1))
  local = local.replace(/\+.*$/, '')
  if (dom === 'gmail.com') local = local.replace(/\./g, '')
  return local + '@' + dom
}

// ---------------------------------------------------------------------------
// countries: name locale, cities (state, postal code, area codes), free-mail
// providers, company TLDs and mail subdomains

const C = {
  US: {
    f: fakerEN_US, cc: '1', weight: 38,
    cities: [
      ['New York', 'NY', () => '100' + pad2(int(1, 40)), ['212', '646', '917']],
      ['San Francisco', 'CA', () => '941' + pad2(int(2, 34)), ['415', '628']],
      ['Chicago', 'IL', () => '606' + pad2(int(1, 61)), ['312', '773']],
      ['Austin', 'TX', () => '787' + pad2(int(1, 59)), ['512', '737']],
      ['Seattle', 'WA', () => '981' + pad2(int(1, 99)), ['206']],
      ['Boston', 'MA', () => '021' + pad2(int(8, 36)), ['617', '857']],
      ['Denver', 'CO', () => '802' + pad2(int(2, 39)), ['303', '720']],
      ['Atlanta', 'GA', () => '303' + pad2(int(3, 61)), ['404', '678']],
      ['Miami', 'FL', () => '331' + pad2(int(25, 99)), ['305', '786']],
      ['Portland', 'OR', () => '972' + pad2(int(1, 39)), ['503', '971']],
      ['Phoenix', 'AZ', () => '850' + pad2(int(3, 54)), ['602', '480']],
      ['Minneapolis', 'MN', () => '554' + pad2(int(1, 88)), ['612']],
      ['Dallas', 'TX', () => '752' + pad2(int(1, 99)), ['214', '469', '972']],
      ['Raleigh', 'NC', () => '276' + pad2(int(1, 17)), ['919']]
    ],
    free: [['gmail.com', 46], ['yahoo.com', 14], ['outlook.com', 10], ['hotmail.com', 9], ['icloud.com', 8], ['aol.com', 5], ['proton.me', 3], ['protonmail.com', 2], ['comcast.net', 2], ['msn.com', 1]],
    tlds: [['com', 70], ['io', 12], ['net', 5], ['co', 6], ['ai', 7]],
    subs: ['mail', 'us', 'corp', 'na'],
    suffix: [['Inc.', 40], ['LLC', 15], ['', 45]]
  },
  GB: {
    f: fakerEN_GB, cc: '44', weight: 14,
    cities: [
      ['London', '', () => pick(['EC1A', 'EC2M', 'SE1', 'W1D', 'N1', 'E14', 'SW1A', 'WC2H']) + ' ' + int(1, 9) + gbIncode(), ['20']],
      ['Manchester', '', () => 'M' + int(1, 4) + ' ' + int(1, 9) + gbIncode(), ['161']],
      ['Birmingham', '', () => 'B' + int(1, 5) + ' ' + int(1, 9) + gbIncode(), ['121']],
      ['Leeds', '', () => 'LS' + int(1, 11) + ' ' + int(1, 9) + gbIncode(), ['113']],
      ['Glasgow', '', () => 'G' + int(1, 5) + ' ' + int(1, 9) + gbIncode(), ['141']],
      ['Bristol', '', () => 'BS' + int(1, 8) + ' ' + int(1, 9) + gbIncode(), ['117']],
      ['Edinburgh', '', () => 'EH' + int(1, 12) + ' ' + int(1, 9) + gbIncode(), ['131']],
      ['Cambridge', '', () => 'CB' + int(1, 5) + ' ' + int(1, 9) + gbIncode(), ['1223']]
    ],
    free: [['gmail.com', 38], ['hotmail.co.uk', 14], ['yahoo.co.uk', 10], ['outlook.com', 10], ['btinternet.com', 9], ['icloud.com', 7], ['live.co.uk', 5], ['sky.com', 4], ['virginmedia.com', 3]],
    tlds: [['co.uk', 80], ['com', 15], ['uk', 5]],
    subs: ['mail', 'uk', 'eu'],
    suffix: [['Ltd', 55], ['plc', 10], ['', 35]]
  },
  DE: {
    f: fakerDE, cc: '49', weight: 12,
    cities: [
      ['Berlin', 'Berlin', () => '10' + digits(3), ['30']],
      ['München', 'Bayern', () => '80' + digits(3), ['89']],
      ['Hamburg', 'Hamburg', () => '20' + digits(3), ['40']],
      ['Frankfurt am Main', 'Hessen', () => '60' + digits(3), ['69']],
      ['Köln', 'Nordrhein-Westfalen', () => '50' + digits(3), ['221']],
      ['Stuttgart', 'Baden-Württemberg', () => '70' + digits(3), ['711']],
      ['Düsseldorf', 'Nordrhein-Westfalen', () => '40' + digits(3), ['211']],
      ['Leipzig', 'Sachsen', () => '04' + digits(3), ['341']]
    ],
    free: [['gmx.de', 22], ['web.de', 20], ['gmail.com', 22], ['t-online.de', 12], ['googlemail.com', 5], ['outlook.de', 5], ['gmx.net', 5], ['freenet.de', 3], ['yahoo.de', 3], ['posteo.de', 2], ['icloud.com', 3]],
    tlds: [['de', 88], ['com', 12]],
    subs: ['mail', 'de', 'eu'],
    suffix: [['GmbH', 60], ['AG', 15], ['GmbH & Co. KG', 15], ['SE', 3], ['', 7]]
  },
  FR: {
    f: fakerFR, cc: '33', weight: 8,
    cities: [
      ['Paris', 'Île-de-France', () => '750' + pad2(int(1, 20)), ['1']],
      ['Lyon', 'Auvergne-Rhône-Alpes', () => '6900' + int(1, 9), ['4']],
      ['Marseille', "Provence-Alpes-Côte d'Azur", () => '130' + pad2(int(1, 16)), ['4']],
      ['Toulouse', 'Occitanie', () => '31' + pick(['000', '100', '200', '300', '400', '500']), ['5']],
      ['Nantes', 'Pays de la Loire', () => '44' + pick(['000', '100', '200', '300']), ['2']],
      ['Lille', 'Hauts-de-France', () => '59' + pick(['000', '160', '260', '800']), ['3']],
      ['Bordeaux', 'Nouvelle-Aquitaine', () => '33' + pick(['000', '100', '200', '300', '800']), ['5']]
    ],
    free: [['gmail.com', 36], ['orange.fr', 14], ['free.fr', 10], ['hotmail.fr', 10], ['laposte.net', 8], ['yahoo.fr', 8], ['sfr.fr', 6], ['wanadoo.fr', 4], ['outlook.fr', 4]],
    tlds: [['fr', 85], ['com', 15]],
    subs: ['mail', 'fr', 'eu'],
    suffix: [['SAS', 45], ['SA', 20], ['SARL', 15], ['', 20]]
  },
  IN: {
    f: fakerEN_IN, cc: '91', weight: 10,
    cities: [
      ['Bengaluru', 'Karnataka', () => '5600' + pad2(int(1, 99)), ['80']],
      ['Mumbai', 'Maharashtra', () => '4000' + pad2(int(1, 99)), ['22']],
      ['New Delhi', 'Delhi', () => '1100' + pad2(int(1, 99)), ['11']],
      ['Hyderabad', 'Telangana', () => '5000' + pad2(int(1, 99)), ['40']],
      ['Pune', 'Maharashtra', () => '4110' + pad2(int(1, 62)), ['20']],
      ['Chennai', 'Tamil Nadu', () => '6000' + pad2(int(1, 99)), ['44']]
    ],
    free: [['gmail.com', 70], ['yahoo.co.in', 10], ['rediffmail.com', 8], ['outlook.com', 6], ['hotmail.com', 4], ['yahoo.in', 2]],
    tlds: [['co.in', 35], ['in', 25], ['com', 40]],
    subs: ['mail', 'in', 'apac'],
    suffix: [['Pvt Ltd', 55], ['Ltd', 20], ['', 25]]
  },
  AU: {
    f: fakerEN_AU, cc: '61', weight: 7,
    cities: [
      ['Sydney', 'NSW', () => '2' + pad2(int(0, 99)).padStart(3, '0'), ['2']],
      ['Melbourne', 'VIC', () => '30' + pad2(int(0, 99)), ['3']],
      ['Brisbane', 'QLD', () => '40' + pad2(int(0, 99)), ['7']],
      ['Perth', 'WA', () => '60' + pad2(int(0, 99)), ['8']],
      ['Adelaide', 'SA', () => '50' + pad2(int(0, 99)), ['8']],
      ['Canberra', 'ACT', () => '26' + pad2(int(0, 18)), ['2']]
    ],
    free: [['gmail.com', 40], ['bigpond.com', 14], ['outlook.com', 10], ['hotmail.com', 10], ['yahoo.com.au', 9], ['optusnet.com.au', 6], ['icloud.com', 8], ['live.com.au', 3]],
    tlds: [['com.au', 85], ['net.au', 5], ['com', 10]],
    subs: ['mail', 'au', 'apac'],
    suffix: [['Pty Ltd', 65], ['Ltd', 10], ['', 25]]
  },
  CA: {
    f: fakerEN_CA, cc: '1', weight: 7,
    cities: [
      ['Toronto', 'ON', () => 'M5' + pick(['V', 'H', 'J', 'A', 'B']) + ' ' + int(1, 9) + faker.string.alpha({ length: 1, casing: 'upper' }) + int(1, 9), ['416', '647']],
      ['Vancouver', 'BC', () => 'V6' + pick(['B', 'C', 'E', 'Z']) + ' ' + int(1, 9) + faker.string.alpha({ length: 1, casing: 'upper' }) + int(1, 9), ['604', '778']],
      ['Montréal', 'QC', () => 'H' + pick(['2X', '3A', '3B', '2Y']) + ' ' + int(1, 9) + faker.string.alpha({ length: 1, casing: 'upper' }) + int(1, 9), ['514', '438']],
      ['Calgary', 'AB', () => 'T2' + pick(['P', 'R', 'G']) + ' ' + int(1, 9) + faker.string.alpha({ length: 1, casing: 'upper' }) + int(1, 9), ['403', '587']],
      ['Ottawa', 'ON', () => 'K1' + pick(['P', 'R', 'N', 'Y']) + ' ' + int(1, 9) + faker.string.alpha({ length: 1, casing: 'upper' }) + int(1, 9), ['613', '343']]
    ],
    free: [['gmail.com', 45], ['hotmail.com', 14], ['outlook.com', 10], ['yahoo.ca', 10], ['rogers.com', 6], ['shaw.ca', 5], ['icloud.com', 6], ['live.ca', 4]],
    tlds: [['ca', 70], ['com', 30]],
    subs: ['mail', 'ca', 'na'],
    suffix: [['Inc.', 45], ['Ltd', 20], ['', 35]]
  },
  NL: {
    f: fakerNL, cc: '31', weight: 1.5,
    cities: [['Amsterdam', 'Noord-Holland', () => '10' + pad2(int(11, 99)) + ' ' + faker.string.alpha({ length: 2, casing: 'upper' }), ['20']], ['Rotterdam', 'Zuid-Holland', () => '30' + pad2(int(11, 99)) + ' ' + faker.string.alpha({ length: 2, casing: 'upper' }), ['10']]],
    free: [['gmail.com', 50], ['hotmail.com', 20], ['outlook.com', 15], ['ziggo.nl', 10], ['kpnmail.nl', 5]],
    tlds: [['nl', 80], ['com', 20]], subs: ['mail', 'eu'], suffix: [['B.V.', 70], ['', 30]]
  },
  ES: {
    f: fakerES, cc: '34', weight: 1,
    cities: [['Madrid', 'Madrid', () => '280' + pad2(int(1, 55)), ['91']], ['Barcelona', 'Cataluña', () => '080' + pad2(int(1, 42)), ['93']]],
    free: [['gmail.com', 55], ['hotmail.es', 20], ['yahoo.es', 10], ['outlook.es', 15]],
    tlds: [['es', 80], ['com', 20]], subs: ['mail', 'eu'], suffix: [['S.L.', 60], ['S.A.', 20], ['', 20]]
  },
  BR: {
    f: fakerPT_BR, cc: '55', weight: 1,
    cities: [['São Paulo', 'SP', () => '01' + digits(3) + '-' + digits(3), ['11']], ['Rio de Janeiro', 'RJ', () => '20' + digits(3) + '-' + digits(3), ['21']]],
    free: [['gmail.com', 55], ['hotmail.com', 20], ['uol.com.br', 10], ['bol.com.br', 5], ['outlook.com', 10]],
    tlds: [['com.br', 85], ['com', 15]], subs: ['mail', 'br'], suffix: [['Ltda.', 60], ['S.A.', 20], ['', 20]]
  },
  SG: {
    f: fakerEN_US, cc: '65', weight: 0.5,
    cities: [['Singapore', '', () => '0' + digits(5), ['6']]],
    free: [['gmail.com', 60], ['hotmail.com', 15], ['yahoo.com.sg', 15], ['outlook.com', 10]],
    tlds: [['com.sg', 70], ['sg', 10], ['com', 20]], subs: ['mail', 'apac', 'sg'], suffix: [['Pte Ltd', 80], ['', 20]]
  }
}
function gbIncode () { return faker.string.alpha({ length: 2, casing: 'upper', exclude: ['C', 'I', 'K', 'M', 'O', 'V'] }) }
const MAIN_COUNTRIES = ['US', 'GB', 'DE', 'FR', 'IN', 'AU', 'CA']
const COUNTRY_PAIRS = Object.entries(C).map(([k, v]) => [k, v.weight])

for (const [code, c] of Object.entries(C)) {
  for (const [d] of c.free) if (!FREE.has(d)) throw new Error(`${code}: ${d} is not in free_email_domains.txt`)
}

// ---------------------------------------------------------------------------
// phones: generate a valid national significant number, then type it the way
// people do. Every "good" phone is checked with libphonenumber (max metadata)
// against the region the engine will use: the lead's country when given, else
// the org default (US).

function phoneGroups (country, city) {
  // returns { cc, groups: [...], mobile }
  const c = C[country]
  const cityAc = city ? pick(city[3]) : null
  switch (country) {
    case 'US': case 'CA': {
      const ac = cityAc && chance(0.7) ? cityAc : pick(pick(c.cities)[3])
      return { cc: '1', groups: [ac, '555', digits(4)], mobile: chance(0.6) }
    }
    case 'GB':
      if (chance(0.6)) return { cc: '44', groups: ['7' + int(4, 9) + digits(2), digits(6)], mobile: true }
      if (cityAc === '20' || !cityAc) return { cc: '44', groups: ['20', pick(['7946', '3' + digits(3), '8' + digits(3)]), digits(4)], mobile: false }
      if (cityAc.length === 4) return { cc: '44', groups: [cityAc, digits(6)], mobile: false }
      return { cc: '44', groups: [cityAc, pick(['496', '4' + digits(2), '3' + digits(2)]), digits(4)], mobile: false }
    case 'DE':
      if (chance(0.5)) return { cc: '49', groups: [pick(['151', '152', '157', '160', '162', '170', '171', '172', '173', '175', '176', '177', '178', '179']), digits(pick([7, 8]))], mobile: true }
      return { cc: '49', groups: [cityAc || '30', String(int(2, 9)) + digits(cityAc && cityAc.length === 3 ? 6 : 7)], mobile: false }
    case 'FR': {
      const first = chance(0.55) ? pick(['6', '7']) : (cityAc || '1')
      return { cc: '33', groups: [first, digits(2), digits(2), digits(2), digits(2)], mobile: first === '6' || first === '7' }
    }
    case 'IN':
      if (chance(0.75)) return { cc: '91', groups: [String(int(7, 9)) + digits(4), digits(5)], mobile: true }
      return { cc: '91', groups: [cityAc || '22', String(int(2, 6)) + digits(3), digits(4)], mobile: false }
    case 'AU':
      // 045x/046x/049x are newer ranges that Debian's libphonenumber 8.12 does not know yet
      if (chance(0.6)) return { cc: '61', groups: ['4' + pick(['0', '1', '2', '3', '7', '8']) + digits(1), digits(3), digits(3)], mobile: true }
      return { cc: '61', groups: [cityAc || '2', String(int(8, 9)) + digits(3), digits(4)], mobile: false }
    case 'NL': return { cc: '31', groups: ['6', digits(8)], mobile: true }
    case 'ES': return { cc: '34', groups: ['6' + digits(2), digits(2), digits(2), digits(2)], mobile: true }
    case 'BR': return { cc: '55', groups: [cityAc || '11', '9' + digits(4), digits(4)], mobile: true }
    case 'SG': return { cc: '65', groups: [pick(['8', '9']) + digits(3), digits(4)], mobile: true }
  }
  throw new Error('no phone plan for ' + country)
}

const TRUNK0 = new Set(['GB', 'DE', 'FR', 'IN', 'AU', 'NL', 'ES', 'BR'])

function typePhone (country, p, countryKnown) {
  const g = p.groups
  const nsn = g.join('')
  const cc = p.cc
  const intl = [
    () => `+${cc} ${g.join(' ')}`,
    () => `+${cc}${nsn}`,
    () => `+${cc}-${g.join('-')}`
  ]
  if (['GB', 'DE', 'FR', 'NL'].includes(country)) intl.push(() => `+${cc} (0)${g.join(' ')}`)
  if (cc === '1') intl.push(() => `+1 (${g[0]}) ${g[1]}-${g[2]}`)
  const nat = []
  if (cc === '1') {
    nat.push(() => `(${g[0]}) ${g[1]}-${g[2]}`, () => `(${g[0]}) ${g[1]}-${g[2]}`, () => `${g[0]}-${g[1]}-${g[2]}`,
      () => `${g[0]}.${g[1]}.${g[2]}`, () => nsn, () => `${g[0]} ${g[1]} ${g[2]}`, () => `1-${g[0]}-${g[1]}-${g[2]}`)
  } else if (TRUNK0.has(country)) {
    nat.push(() => `0${g.join(' ')}`, () => `0${g.join(' ')}`, () => `0${nsn}`, () => `0${g[0]}-${g.slice(1).join('')}`)
    if (country === 'DE') nat.push(() => `0${g[0]}/${g.slice(1).join('')}`, () => `00${cc} ${g.join(' ')}`)
    if (country === 'FR') nat.push(() => `0${g.join('.')}`)
    if ((country === 'GB' || country === 'AU') && !p.mobile) nat.push(() => `(0${g[0]}) ${g.slice(1).join(' ')}`)
    if (country === 'IN' && p.mobile) nat.push(() => g.join(' '), () => nsn)
  } else {
    nat.push(() => g.join(' '))
  }
  // International format when the engine cannot know the country, and for
  // a share of people anyway.
  const styles = (!countryKnown && cc !== '1') || chance(0.25) ? intl : nat
  const region = countryKnown ? country : 'US'
  for (const s of shuffle(styles.slice())) {
    const text = s()
    const parsed = parsePhoneNumberFromString(text, region)
    if (parsed && parsed.isValid() && parsed.number === `+${cc}${nsn}`) return text
  }
  return null
}

const usedPhones = new Set()
function makePhone (country, city, countryKnown) {
  for (let i = 0; i < 60; i++) {
    const p = phoneGroups(country, city)
    const e164 = `+${p.cc}${p.groups.join('')}`
    if (usedPhones.has(e164)) continue
    const check = parsePhoneNumberFromString(e164)
    if (!check || !check.isValid()) continue
    const text = typePhone(country, p, countryKnown)
    if (!text) continue
    usedPhones.add(e164)
    return { text, e164, p }
  }
  throw new Error('could not make a valid phone for ' + country)
}
// a phone re-typed differently (same number), for duplicates
function retypePhone (person) {
  if (!person.phoneObj) return null
  const t = typePhone(person.country, person.phoneObj.p, !!person.countryTyped)
  return t || person.phone
}

// ---------------------------------------------------------------------------
// industries and firmographics

const INDUSTRIES = [
  // name (form/clearbit_like taxonomy), zoominfo_like name, revenue per employee (USD)
  ['Software', 'Computer Software', 260000, ['Labs', 'Software', 'Systems', 'Cloud', 'Data', 'Analytics', 'Digital', 'AI']],
  ['Financial Services', 'Finance', 420000, ['Capital', 'Financial', 'Advisors', 'Insurance', 'Payments', 'Wealth']],
  ['Healthcare', 'Hospitals & Physicians Clinics', 130000, ['Health', 'Medical', 'Clinics', 'Diagnostics', 'Care']],
  ['Manufacturing', 'Industrial Manufacturing', 310000, ['Manufacturing', 'Industries', 'Fabrication', 'Components', 'Tooling']],
  ['Retail', 'Retail', 170000, ['Outfitters', 'Stores', 'Market', 'Goods', 'Supply Co']],
  ['Logistics', 'Transportation & Logistics', 190000, ['Logistics', 'Freight', 'Shipping', 'Transport']],
  ['Telecommunications', 'Telecommunications', 380000, ['Networks', 'Telecom', 'Communications']],
  ['Energy', 'Energy, Utilities & Waste', 520000, ['Energy', 'Power', 'Solar', 'Renewables']],
  ['Education', 'Education', 90000, ['Academy', 'Learning', 'Institute']],
  ['Media', 'Media & Internet', 240000, ['Media', 'Studios', 'Creative']],
  ['Professional Services', 'Business Services', 160000, ['Consulting', 'Advisory', 'Associates', 'Partners']],
  ['Real Estate', 'Real Estate', 280000, ['Properties', 'Realty', 'Estates']],
  ['Food & Beverage', 'Food & Beverages', 210000, ['Foods', 'Brewing', 'Kitchens', 'Provisions']],
  ['Automotive', 'Automotive', 330000, ['Motors', 'Automotive', 'Mobility']],
  ['Hospitality', 'Hospitality', 95000, ['Hotels', 'Travel', 'Resorts']]
]
const IND = Object.fromEntries(INDUSTRIES.map(r => [r[0], r]))
const INDUSTRY_WEIGHTS = [['Software', 20], ['Financial Services', 10], ['Healthcare', 9], ['Manufacturing', 11], ['Retail', 7], ['Logistics', 6], ['Telecommunications', 4], ['Energy', 5], ['Education', 4], ['Media', 4], ['Professional Services', 9], ['Real Estate', 3], ['Food & Beverage', 4], ['Automotive', 3], ['Hospitality', 2]]
const DE_NOUNS = { Software: ['Software', 'Systemhaus', 'Digital'], 'Financial Services': ['Finanz', 'Versicherung', 'Vermögen'], Healthcare: ['Medizintechnik', 'Pharma', 'Klinik'], Manufacturing: ['Maschinenbau', 'Metallbau', 'Werkzeugbau', 'Präzision'], Retail: ['Handel', 'Moden', 'Warenhaus'], Logistics: ['Logistik', 'Spedition'], Telecommunications: ['Telekom', 'Netze'], Energy: ['Energie', 'Solartechnik'], Education: ['Akademie', 'Bildung'], Media: ['Medien', 'Verlag'], 'Professional Services': ['Beratung', 'Consulting'], 'Real Estate': ['Immobilien'], 'Food & Beverage': ['Feinkost', 'Brauerei', 'Backwaren'], Automotive: ['Fahrzeugtechnik', 'Autoteile'], Hospitality: ['Hotels', 'Reisen'] }
const FR_NOUNS = { Software: ['Informatique', 'Logiciels', 'Numérique'], 'Financial Services': ['Finance', 'Assurances', 'Gestion'], Healthcare: ['Santé', 'Médical', 'Pharma'], Manufacturing: ['Industrie', 'Mécanique', 'Usinage'], Retail: ['Distribution', 'Boutiques'], Logistics: ['Logistique', 'Transports'], Telecommunications: ['Télécom', 'Réseaux'], Energy: ['Énergie', 'Solaire'], Education: ['Formation', 'Académie'], Media: ['Médias', 'Éditions'], 'Professional Services': ['Conseil', 'Expertise'], 'Real Estate': ['Immobilier'], 'Food & Beverage': ['Gastronomie', 'Vins', 'Boulangerie'], Automotive: ['Automobiles', 'Mobilité'], Hospitality: ['Hôtels', 'Voyages'] }
const PREFIXES = ['Apex', 'Atlas', 'Beacon', 'Birch', 'Bluefin', 'Bright', 'Cascade', 'Cedar', 'Clearwater', 'Crescent', 'Crimson', 'Delta', 'Ember', 'Falcon', 'Fjord', 'Frontier', 'Granite', 'Harbor', 'Highland', 'Horizon', 'Ironwood', 'Juniper', 'Keystone', 'Lakeside', 'Lighthouse', 'Lumen', 'Maple', 'Meadow', 'Mosaic', 'Nimbus', 'North Star', 'Oakmont', 'Onyx', 'Orchard', 'Pacific', 'Paragon', 'Pinnacle', 'Polaris', 'Prairie', 'Quarry', 'Radiant', 'Riverbend', 'Sable', 'Sagebrush', 'Sapphire', 'Sierra', 'Silverline', 'Skyward', 'Solstice', 'Sterling', 'Stonebridge', 'Sunrise', 'Tidewater', 'Timberline', 'Trident', 'Union', 'Vanguard', 'Verdant', 'Vista', 'Westfield', 'Willow', 'Zenith']
const INDIAN_PREFIXES = ['Sahyadri', 'Kaveri', 'Nilgiri', 'Ganga', 'Shakti', 'Surya', 'Vayu', 'Aravali', 'Lotus', 'Tara', 'Prithvi', 'Indigo', 'Kesar', 'Vindhya']

function sizeFor () {
  return wpick([[() => int(2, 10), 8], [() => int(11, 50), 18], [() => int(51, 200), 24], [() => int(201, 500), 17], [() => int(501, 999), 11], [() => int(1000, 5000), 14], [() => int(5001, 20000), 6], [() => int(20001, 90000), 2]])()
}
function revenueFor (size, industry) {
  const r = size * IND[industry][2] * (0.6 + rnd() * 0.9)
  const mag = Math.pow(10, Math.max(0, Math.floor(Math.log10(r)) - 2))
  return Math.round(r / mag) * mag
}

// ---------------------------------------------------------------------------
// reps and teams

const TEAMS = [
  ['Inbound SDR', 'round_robin'],
  ['Enterprise AE', 'weighted_round_robin'],
  ['EMEA', 'load_balanced'],
  ['Partners', 'round_robin']
]
// team, name, role, active, accepting, max_open, weight, away
const AWAY = [iso(new Date('2026-10-19T00:00:00Z')), iso(new Date('2027-01-11T00:00:00Z'))]
const REPS_RAW = [
  ['Inbound SDR', 'Dana Whitfield', 'manager', true, false, null, 1],
  ['Inbound SDR', 'Marcus Reyes', 'sdr', true, true, 60, 1],
  ['Inbound SDR', 'Priya Natarajan', 'sdr', true, true, 60, 1],
  ['Inbound SDR', 'Tyler Brooks', 'sdr', true, true, null, 1],
  ['Inbound SDR', 'Sofia Lindqvist', 'sdr', true, true, 45, 1],
  ['Inbound SDR', 'Jordan Kim', 'sdr', true, true, null, 1],
  ['Inbound SDR', 'Aisha Bello', 'sdr', true, false, null, 1],
  ['Inbound SDR', 'Ethan Caldwell', 'sdr', false, false, null, 1],
  ['Enterprise AE', 'Robert Ashford', 'manager', true, false, null, 1],
  ['Enterprise AE', 'Catherine Doyle', 'ae', true, true, 40, 3],
  ['Enterprise AE', 'Miguel Santos', 'ae', true, true, null, 2],
  ['Enterprise AE', 'Hannah Feldman', 'ae', true, true, null, 2, AWAY],
  ['Enterprise AE', 'Oliver Grant', 'ae', true, true, 25, 1],
  ['Enterprise AE', 'Grace Liu', 'ae', true, true, null, 3],
  ['EMEA', 'Sophie Laurent', 'manager', true, true, 30, 1],
  ['EMEA', 'Lukas Becker', 'ae', true, true, null, 2],
  ['EMEA', 'Emma Clarke', 'ae', true, true, null, 2],
  ['EMEA', 'Julien Moreau', 'sdr', true, true, 50, 1],
  ['EMEA', 'Katharina Vogel', 'sdr', true, true, null, 1],
  ['EMEA', "Finn O'Brien", 'sdr', true, true, null, 1],
  ['Partners', 'Rachel Okafor', 'manager', true, true, null, 1],
  ['Partners', 'Daniel Park', 'ae', true, true, null, 2],
  ['Partners', 'Chloe Martin', 'ae', true, true, null, 1],
  ['Partners', 'Samir Haddad', 'sdr', true, true, 35, 1]
]
const REPS = REPS_RAW.map(([team, name, role, active, accepting, max, weight, away]) => ({
  team, name, role, active, accepting, max, weight,
  email: slugDash(name.replace(/'/g, '')).replace(/-/g, '.') + '@' + COMPANY_DOMAIN,
  away: away || null
}))
const rep = name => REPS.find(r => r.name === name)
const routable = team => REPS.filter(r => r.team === team && r.active && r.accepting && !r.away)

// ---------------------------------------------------------------------------
// named accounts (hand-written, fictional) and other companies

// name, domain (as the company writes it), country, industry, employees, owner
const ACCOUNTS_RAW = [
  ['Northwind Logistics Inc.', 'northwindlogistics.com', 'US', 'Logistics', 2400, 'Catherine Doyle'],
  ['Brightline Health Systems', 'brightlinehealth.com', 'US', 'Healthcare', 5200, 'Grace Liu'],
  ['Cobalt Ridge Capital', 'cobaltridge.com', 'US', 'Financial Services', 850, 'Miguel Santos'],
  ['Helios Grid Energy', 'heliosgrid.com', 'US', 'Energy', 3100, 'Hannah Feldman'],
  ['Pinecrest Retail Group', 'pinecrestretail.com', 'US', 'Retail', 12000, 'Catherine Doyle'],
  ['Quantum Forge Software', 'quantumforge.io', 'US', 'Software', 420, 'Oliver Grant'],
  ['Redwood Analytics', 'redwoodanalytics.com', 'US', 'Software', 1300, 'Grace Liu'],
  ['Summit Peak Manufacturing', 'summitpeakmfg.com', 'US', 'Manufacturing', 2700, 'Miguel Santos'],
  ['BlueHarbor Insurance', 'blueharborins.com', 'US', 'Financial Services', 6400, 'Catherine Doyle'],
  ['Meridian Telecom', 'meridiantel.net', 'US', 'Telecommunications', 9800, 'Grace Liu'],
  ['Copperleaf Foods', 'copperleaffoods.com', 'US', 'Food & Beverage', 1900, 'Hannah Feldman'],
  ['Ironclad Security Labs', 'ironcladsec.io', 'US', 'Software', 260, 'Oliver Grant'],
  ['Westbrook University', 'westbrook.edu', 'US', 'Education', 7000, 'Daniel Park'],
  ['Granite State Automotive', 'granitestateauto.com', 'US', 'Automotive', 3500, 'Miguel Santos'],
  ['Evergreen Realty Partners', 'evergreenrealty.com', 'US', 'Real Estate', 380, 'Chloe Martin'],
  ['Tidemark Payments', 'tidemarkpay.com', 'US', 'Financial Services', 640, 'Ethan Caldwell'],
  ['Acme Industrial Ltd', 'acme.co.uk', 'GB', 'Manufacturing', 1800, 'Emma Clarke'],
  ['Thameside Bank plc', 'thamesidebank.co.uk', 'GB', 'Financial Services', 15000, 'Emma Clarke'],
  ['Harrow & Finch LLP', 'harrowfinch.co.uk', 'GB', 'Professional Services', 220, 'Sophie Laurent'],
  ['Albion Rail Freight', 'albionrail.co.uk', 'GB', 'Logistics', 3300, 'Emma Clarke'],
  ['Kestrel Software Ltd', 'kestrelsoftware.co.uk', 'GB', 'Software', 150, 'Sophie Laurent'],
  ['Pennine Care Group', 'penninecare.org.uk', 'GB', 'Healthcare', 4100, 'Emma Clarke'],
  ['Oakridge Retail plc', 'oakridge-retail.co.uk', 'GB', 'Retail', 8800, 'Lukas Becker'],
  ['Rheinwerk Maschinenbau GmbH', 'rheinwerk-maschinenbau.de', 'DE', 'Manufacturing', 2300, 'Lukas Becker'],
  ['Müller Präzisionstechnik GmbH', 'müller-präzision.de', 'DE', 'Manufacturing', 640, 'Lukas Becker'],
  ['Nordlicht Energie AG', 'nordlicht-energie.de', 'DE', 'Energy', 5600, 'Lukas Becker'],
  ['Alpenblick Versicherung AG', 'alpenblick-versicherung.de', 'DE', 'Financial Services', 7200, 'Sophie Laurent'],
  ['Hanse Logistik GmbH', 'hanselogistik.de', 'DE', 'Logistics', 900, 'Lukas Becker'],
  ['Spreewerk Software GmbH', 'spreewerk.de', 'DE', 'Software', 310, 'Sophie Laurent'],
  ['Lumière Cosmétiques SA', 'lumiere-cosmetiques.fr', 'FR', 'Retail', 1400, 'Sophie Laurent'],
  ['Groupe Atlantique Assurances', 'atlantique-assurances.fr', 'FR', 'Financial Services', 4800, 'Emma Clarke'],
  ['Vignoble & Cie', 'vignoble-cie.fr', 'FR', 'Food & Beverage', 95, 'Sophie Laurent'],
  ['Orbitale Aérospatiale SAS', 'orbitale-aero.fr', 'FR', 'Manufacturing', 2600, 'Lukas Becker'],
  ['Saffron Tech Solutions Pvt Ltd', 'saffrontech.co.in', 'IN', 'Software', 3800, 'Grace Liu'],
  ['Indus Pharma Ltd', 'induspharma.in', 'IN', 'Healthcare', 6100, 'Miguel Santos'],
  ['Deccan Motors Ltd', 'deccanmotors.co.in', 'IN', 'Automotive', 9000, 'Hannah Feldman'],
  ['Coral Coast Tourism Pty Ltd', 'coralcoast.com.au', 'AU', 'Hospitality', 450, 'Daniel Park'],
  ['Southern Cross Mining Ltd', 'southerncrossmining.com.au', 'AU', 'Energy', 7700, 'Catherine Doyle'],
  ['Wattle Health Pty Ltd', 'wattlehealth.com.au', 'AU', 'Healthcare', 1100, 'Oliver Grant'],
  ['Maple Leaf Analytics Inc.', 'mapleleafanalytics.ca', 'CA', 'Software', 540, 'Chloe Martin']
]

const companies = []
const usedDomains = new Set()
function addCompany (c) {
  c.ascii = domainToASCII(c.domain)
  if (!c.ascii || usedDomains.has(c.ascii) || FREE.has(c.ascii)) return null
  usedDomains.add(c.ascii)
  c.subs = shuffle(C[c.country].subs.slice()).slice(0, int(1, 2))
  companies.push(c)
  return c
}
for (const [name, domain, country, industry, size, owner] of ACCOUNTS_RAW) {
  const c = addCompany({ name, domain, country, industry, size, revenue: revenueFor(size, industry), account: true, owner: rep(owner).email })
  if (!c) throw new Error('account domain clash ' + domain)
}

function makeCompanyName (country) {
  const industry = wpick(INDUSTRY_WEIGHTS)
  const cfg = C[country]
  const suffix = wpick(cfg.suffix)
  let base, domainBase
  if (country === 'DE' || country === 'FR' || (country === 'NL' && chance(0.5))) {
    const last = cfg.f.person.lastName().split(/[\s-]/)[0]
    const noun = pick((country === 'FR' ? FR_NOUNS : DE_NOUNS)[industry] || [IND[industry][3][0]])
    base = `${last} ${noun}`
    domainBase = chance(0.7) ? slugDash(base) : slug(base)
  } else {
    const pre = country === 'IN' && chance(0.5) ? pick(INDIAN_PREFIXES) : pick(PREFIXES)
    const noun = pick(IND[industry][3])
    base = `${pre} ${noun}`
    domainBase = chance(0.8) ? slug(base) : slugDash(base)
  }
  return { name: suffix ? `${base} ${suffix}` : base, domainBase, industry }
}

const COMPANY_COUNTRY = [['US', 40], ['GB', 14], ['DE', 13], ['FR', 8], ['IN', 9], ['AU', 7], ['CA', 6], ['NL', 1.2], ['ES', 1], ['BR', 0.8], ['SG', 0.6]]
while (companies.length < 235) {
  const country = wpick(COMPANY_COUNTRY)
  const { name, domainBase, industry } = makeCompanyName(country)
  const size = sizeFor()
  addCompany({ name, domain: domainBase + '.' + wpick(C[country].tlds), country, industry, size, revenue: revenueFor(size, industry), account: false })
}
// IDN company domains (people type them with the umlauts)
for (const [name, domain, industry, size] of [
  ['Schäfer Logistik GmbH', 'schäfer-logistik.de', 'Logistics', 380],
  ['Bäckerei Köhler GmbH & Co. KG', 'bäckerei-köhler.de', 'Food & Beverage', 120],
  ['Müller Medizintechnik AG', 'müller.de', 'Healthcare', 1450]
]) addCompany({ name, domain, country: 'DE', industry, size, revenue: revenueFor(size, industry), account: false })
for (const [name, domain, industry, size] of [['Café Lumière SARL', 'café-lumière.fr', 'Hospitality', 45]]) {
  addCompany({ name, domain, country: 'FR', industry, size, revenue: revenueFor(size, industry), account: false })
}
// a few sizes that straddle the 1000-employee routing threshold
for (const c of companies.filter(c => !c.account).slice(5, 11)) c.size = int(940, 1060)

// lead volume per company: Zipf-like, accounts in the middle
const order = shuffle(companies.map((_, i) => i))
order.forEach((ci, rank) => { companies[ci].w = 1 / Math.pow(rank + 1, 0.75) })
for (const c of companies) if (c.account) c.w = Math.max(c.w * 0.6, 0.04)

function pickCompany (country) {
  // 85% a company of the person's country, else any
  const pool = chance(0.85) ? companies.filter(c => c.country === country) : companies
  return wpick((pool.length ? pool : companies).map(c => [c, c.w]))
}

// ---------------------------------------------------------------------------
// job titles

const TITLES = {
  clevel: ['CEO', 'Chief Executive Officer', 'CTO', 'CFO', 'COO', 'CMO', 'CIO', 'Chief Revenue Officer', 'Chief Marketing Officer', 'Founder & CEO', 'Co-Founder'],
  vp: ['VP Sales', 'VP of Marketing', 'VP Engineering', 'Vice President, Operations', 'VP Revenue Operations', 'SVP Sales', 'VP, Customer Success', 'Vice President of IT'],
  director: ['Director of IT', 'Marketing Director', 'Head of Sales', 'Director, Demand Generation', 'Head of Procurement', 'Director of Operations', 'Sales Director EMEA', 'Head of Data', 'Director of International Sales'],
  manager: ['Marketing Manager', 'IT Manager', 'Sales Operations Manager', 'Procurement Manager', 'Product Manager', 'Office Manager', 'Account Manager', 'Project Manager', 'Customer Success Manager', 'Operations Manager'],
  engineer: ['Software Engineer', 'Senior Software Engineer', 'DevOps Engineer', 'Data Engineer', 'Solutions Engineer', 'Systems Engineer', 'Sr. Engineer', 'Engineering Lead'],
  consultant: ['Consultant', 'Senior Consultant', 'Independent Consultant', 'Management Consultant', 'IT Consultant'],
  student: ['Student', 'MBA Student', 'Graduate Student', 'PhD Student', 'student'],
  intern: ['Intern', 'Marketing Intern', 'Sales Intern', 'Engineering Intern'],
  other: ['Analyst', 'Business Analyst', 'Marketing Specialist', 'Coordinator', 'Owner', 'Sales Representative', 'Executive Assistant', 'Accountant', 'Recruiter']
}
const TITLE_WEIGHTS = [['clevel', 6], ['vp', 8], ['director', 14], ['manager', 25], ['engineer', 17], ['consultant', 7], ['student', 5], ['intern', 3], ['other', 11], ['none', 4]]
function jobTitle (kind) {
  if (kind === 'none') return ''
  let t = pick(TITLES[kind])
  if (chance(0.04)) t = t.toLowerCase()
  return t
}
const UNIVERSITIES = { US: ['Stanford University', 'University of Texas at Austin', 'Boston University', 'Georgia Tech'], GB: ['University of Manchester', "King's College London", 'University of Edinburgh'], DE: ['TU München', 'Universität zu Köln', 'HU Berlin'], FR: ['Sorbonne Université', 'HEC Paris', 'INSA Lyon'], IN: ['IIT Bombay', 'IIM Bangalore', 'Delhi University'], AU: ['University of Sydney', 'Monash University'], CA: ['University of Toronto', 'McGill University', 'UBC'] }

// ---------------------------------------------------------------------------
// sources and campaigns

const SOURCES = [['web_form', 21], ['landing_page', 13], ['meta_ads', 10], ['google_ads', 12], ['trade_show', 9], ['referral', 7], ['cold_call', 6], ['email_campaign', 10], ['partner', 6], ['chat', 6]]
const CAMPAIGNS = {
  web_form: ['Website - Contact Us', 'Website - Demo Request', 'Website - Demo Request', ''],
  landing_page: ['LP - Lead Routing Guide 2026', 'LP - Free Trial', 'LP - ROI Calculator'],
  meta_ads: ['Meta - Retargeting Q4 2026', 'Meta - Lookalike EMEA', 'Meta - Lead Form Oct 2026'],
  google_ads: ['Google Search - Brand', 'Google Search - Competitor', 'Google - PMax Q4 2026'],
  trade_show: ['SaaStr Annual 2026', 'Dreamforce 2026', 'Web Summit 2026', 'DMEXCO 2026'],
  referral: ['Customer Referral Program', ''],
  cold_call: ['Outbound Q4 - Manufacturing', 'Outbound Q4 - Healthcare', ''],
  email_campaign: ['Newsletter Oct 2026', 'Nurture - Webinar Follow-up', 'Product Launch Nov 2026'],
  partner: ['Partner - Northwind Consulting', 'Partner - Reseller EMEA', 'Partner Portal'],
  chat: ['Website Chat', 'Pricing Page Chat']
}
function campaignFor (source) {
  const c = pick(CAMPAIGNS[source])
  return chance(0.12) ? '' : c
}

// ---------------------------------------------------------------------------
// people

const usedEmails = new Set() // normalized
const NICK = { John: 'Jon', Jonathan: 'Jon', William: 'Bill', Robert: 'Bob', Richard: 'Rick', Michael: 'Mike', Elizabeth: 'Liz', Katherine: 'Kathy', Catherine: 'Cathy', Jennifer: 'Jenny', Alexander: 'Alex', Alexandra: 'Alex', Christopher: 'Chris', Matthew: 'Matt', Daniel: 'Dan', Thomas: 'Tom', Samuel: 'Sam', Benjamin: 'Ben', Joseph: 'Joe', James: 'Jim', Margaret: 'Maggie', Patricia: 'Pat', Nicholas: 'Nick', Andrew: 'Andy', Anthony: 'Tony', Stephanie: 'Steph' }

function localPart (first, last, corporate) {
  const f = slug(first) || 'info'
  const l = slug(last) || 'contact'
  if (corporate) {
    return wpick([[`${f}.${l}`, 50], [`${f[0]}${l}`, 15], [`${f[0]}.${l}`, 10], [`${f}`, 4], [`${f}${l[0]}`, 5], [`${f}_${l}`, 5], [`${l}.${f}`, 5], [`${f}-${l}`, 6]])
  }
  return wpick([[`${f}.${l}`, 30], [`${f}${l}`, 20], [`${f}.${l}${int(1, 99)}`, 15], [`${f[0]}${l}${int(1, 999)}`, 10], [`${f}_${l}`, 8], [`${f}${int(1960, 2006)}`, 10], [`${l}.${f}`, 7]])
}

function makeEmail (first, last, domain, corporate) {
  for (let i = 0; i < 30; i++) {
    let local = localPart(first, last, corporate)
    if (i > 2) local += corporate ? String(i) : String(int(1, 9999))
    const email = `${local}@${domain}`
    const n = normEmail(email)
    if (!usedEmails.has(n)) { usedEmails.add(n); return email }
  }
  throw new Error('email space exhausted')
}

function personName (country) {
  const f = C[country].f
  let first = f.person.firstName()
  let last = f.person.lastName()
  if (chance(0.015)) first = first.toLowerCase()
  if (chance(0.01)) last = last.toUpperCase()
  return { first, last }
}

// base person: everything we know; renderers decide what is typed where
function makePerson (opts = {}) {
  const country = opts.country || wpick(COUNTRY_PAIRS)
  const c = C[country]
  const { first, last } = opts.name || personName(country)
  const city = pick(c.cities)
  const titleKind = opts.titleKind || wpick(TITLE_WEIGHTS)
  const student = titleKind === 'student' || titleKind === 'intern'
  const free = opts.free !== undefined ? opts.free : (student ? chance(0.85) : chance(0.24))
  const company = opts.company || (student && titleKind === 'student' ? null : pickCompany(country))
  const p = {
    first, last, country, city: city[0], state: city[1], postal: city[2](),
    titleKind, job_title: jobTitle(titleKind), free, company,
    companyText: '', email: '', phone: '', phoneObj: null,
    industry: '', company_size: '', annual_revenue: '', countryTyped: ''
  }
  // what the person types about the company
  if (company) {
    const r = rnd()
    p.companyText = r < 0.7 ? company.name : r < 0.85 ? company.name.replace(/\s+(Inc\.|LLC|Ltd|plc|GmbH.*|AG|SAS|SA|SARL|Pvt Ltd|Pty Ltd|B\.V\.|S\.L\.|S\.A\.|Ltda\.|Pte Ltd|SE|LLP)$/, '') : r < 0.93 ? company.name.toUpperCase() : company.name.split(' ')[0]
    if (free && chance(0.4)) p.companyText = ''
  } else if (student && UNIVERSITIES[country]) {
    p.companyText = chance(0.6) ? pick(UNIVERSITIES[country]) : ''
  }
  // email
  if (opts.noEmail) {
    p.email = ''
  } else if (free || !company) {
    p.email = makeEmail(first, last, wpick(c.free), false)
    p.free = true
  } else {
    const dom = chance(0.33) ? `${pick(company.subs)}.${company.domain}` : company.domain
    p.email = makeEmail(first, last, dom, true)
  }
  if (!opts.noEmail && chance(0.05)) {
    // some people capitalise their address
    const [l, d] = p.email.split('@')
    p.email = l.split('.').map(s => s.charAt(0).toUpperCase() + s.slice(1)).join('.') + '@' + d
  }
  // firmographics typed on the form (company-domain leads leave many empty
  // so enrichment has work to do)
  const corporate = !p.free && company
  if (company) {
    if (chance(corporate ? 0.45 : 0.15)) p.industry = company.industry
    if (chance(corporate ? 0.38 : 0.1)) p.company_size = String(roughSize(company.size))
    if (chance(corporate ? 0.22 : 0.05)) p.annual_revenue = String(company.revenue)
  } else if (student && chance(0.3)) p.industry = 'Education'
  const countryKnown = corporate ? chance(0.68) : chance(0.85)
  p.countryTyped = countryKnown ? country : ''
  // phone
  if (opts.noEmail || chance(opts.phoneRate ?? 0.68)) {
    p.phoneObj = makePhone(country, city, countryKnown)
    p.phone = p.phoneObj.text
  }
  p.source = opts.source || wpick(SOURCES)
  p.campaign = campaignFor(p.source)
  return p
}
function roughSize (n) {
  if (chance(0.5)) return n
  if (n < 100) return Math.round(n / 5) * 5 || n
  if (n < 1000) return Math.round(n / 50) * 50
  return Math.round(n / 500) * 500
}

// ---------------------------------------------------------------------------
// duplicate e-mail variants (same person, same normalized address)

const PLUS_TAGS = ['webinar', 'news', 'leads', 'demo', '2026', 'crm', 'signup', 'ads', 'events']
function emailVariant (email) {
  const at = email.lastIndexOf('@')
  let local = email.slice(0, at)
  let domain = email.slice(at + 1)
  const isGmail = domain.toLowerCase() === 'gmail.com'
  const kinds = [['same', 14], ['case', 26], ['plus', 24], ['spaces', 16], ['case+plus', 8], ['spaces+case', 6]]
  if (isGmail) kinds.push(['gmail_dots', 30], ['gmail_dots+plus', 8])
  if (/[^\x00-\x7f]/.test(domain)) kinds.push(['punycode', 30])
  const kind = wpick(kinds)
  let spaces = false
  for (const k of kind.split('+')) {
    if (k === 'case') {
      if (chance(0.5)) local = local.split('.').map(s => s.charAt(0).toUpperCase() + s.slice(1)).join('.')
      else local = local.toUpperCase()
      // only ASCII domains change case (lower() of non-ASCII depends on the
      // database locale; IDN case folding is libidn2's business)
      if (/^[\x00-\x7f]*$/.test(domain)) domain = chance(0.5) ? domain.toUpperCase() : domain.charAt(0).toUpperCase() + domain.slice(1)
    } else if (k === 'plus') {
      local = `${local}+${pick(PLUS_TAGS)}`
    } else if (k === 'spaces') {
      spaces = true
    } else if (k === 'gmail_dots') {
      const bare = local.replace(/\./g, '')
      if (local.includes('.') && chance(0.5)) {
        local = bare
      } else {
        const chars = bare.split('')
        const out = [chars[0]]
        for (let i = 1; i < chars.length; i++) { if (chance(0.3)) out.push('.'); out.push(chars[i]) }
        local = out.join('')
        if (local === email.slice(0, at)) local = bare.slice(0, 1) + '.' + bare.slice(1)
      }
    } else if (k === 'punycode') {
      domain = domainToASCII(domain)
    } else if (k === 'same') {
      // identical resubmission
    }
  }
  let out = `${local}@${domain}`
  if (spaces) out = pick([' ', '  ']) + out + pick([' ', '', '  '])
  return { email: out, kind }
}

// ---------------------------------------------------------------------------
// bad rows

function badRow (kind) {
  const p = makePerson({ noEmail: kind === 'nocontact' || chance(0.3), phoneRate: 0.5 })
  if (kind === 'nocontact') { p.email = ''; p.phone = ''; p.phoneObj = null }
  const f = slug(p.first) || 'john'
  const l = slug(p.last) || 'doe'
  const d = p.company ? p.company.ascii : 'example.com'
  if (kind === 'bademail') {
    p.email = pick([`${f}.${l}@`, `${f}@@${d}`, `${f}${l}.com`, `@${d}`, `${f} ${l}@${d}`, `${f}@${d.replace(/\.[^.]+$/, '')}..com`, `${f}.${l}@${d.replace('.', ',')}`, `${f}@`, `${f}@${d}@${d}`])
    if (chance(0.5)) { p.phone = ''; p.phoneObj = null }
  }
  if (kind === 'badphone') {
    p.phone = pick(['12', 'call me', 'n/a', '000', '123', 'call me after 5pm', 'tbd', '-', '+', 'x'])
    p.phoneObj = null
  }
  p.bad = kind
  return p
}

// ---------------------------------------------------------------------------
// leads_import.csv and capture.jsonl

const csvRows = [] // { key, person, email, phone, kind, dupOf }
const captureItems = [] // { key, person, email, kind }

const N_CSV_ORIG = 2050
const N_CAP_ORIG = 540

// capture originals first (the CSV may repeat some of them)
const capPeople = []
for (let i = 0; i < N_CAP_ORIG; i++) {
  const shape = wpick([['flat', 40], ['meta', 32], ['google', 28]])
  const source = shape === 'meta' ? 'meta_ads' : shape === 'google' ? 'google_ads' : wpick([['web_form', 35], ['landing_page', 25], ['chat', 15], ['email_campaign', 10], ['partner', 10], ['referral', 5]])
  const p = makePerson({ source, noEmail: chance(0.03), phoneRate: shape === 'flat' ? 0.6 : 0.85 })
  p.shape = shape
  capPeople.push(p)
  captureItems.push({ key: i, person: p, email: p.email, kind: 'original' })
}

// CSV originals
const csvPeople = []
for (let i = 0; i < N_CSV_ORIG; i++) {
  const phoneOnly = chance(0.045)
  const p = makePerson({ noEmail: phoneOnly })
  if (phoneOnly && chance(0.6)) { p.source = pick(['cold_call', 'trade_show', 'chat', 'referral']); p.campaign = campaignFor(p.source) }
  csvPeople.push(p)
  csvRows.push({ key: i, person: p, email: p.email, phone: p.phone, kind: phoneOnly ? 'phone_only' : 'original' })
}

// possible duplicates (not the same e-mail): shared phone, company + similar name
const withPhone = csvPeople.filter(p => p.phone && p.email)
for (let i = 0; i < 45; i++) {
  const base = pick(withPhone)
  const at = int(0, N_CSV_ORIG - 1)
  const mode = wpick([['same_person_other_email', 45], ['colleague_same_switchboard', 30], ['phone_only_same_phone', 25]])
  let p
  if (mode === 'colleague_same_switchboard') {
    p = makePerson({ country: base.country, company: base.company, free: false, phoneRate: 0 })
  } else {
    p = makePerson({ country: base.country, name: { first: base.first, last: base.last }, company: base.company, free: mode === 'same_person_other_email' ? !base.free : false, noEmail: mode === 'phone_only_same_phone', phoneRate: 0 })
    p.job_title = base.job_title
  }
  p.phoneObj = base.phoneObj
  p.countryTyped = base.countryTyped // the typed phone must parse the same way
  p.phone = chance(0.5) ? base.phone : retypePhone(base)
  p.possible = 'shared_phone'
  csvRows.push({ key: Math.max(at, csvRows.findIndex(r => r.person === base)) + 0.5, person: p, email: p.email, phone: p.phone, kind: mode === 'phone_only_same_phone' ? 'phone_only' : 'original', possible: 'shared_phone' })
}
const corpPeople = csvPeople.filter(p => p.email && !p.free && p.company)
let similar = 0
for (const base of shuffle(corpPeople.slice())) {
  if (similar >= 32) break
  let first = base.first
  let last = base.last
  if (NICK[first]) first = NICK[first]
  else if (chance(0.5) && last.length > 4) { const k = int(1, last.length - 2); last = last.slice(0, k) + last[k + 1] + last[k] + last.slice(k + 2) } else continue
  const p = makePerson({ country: base.country, name: { first, last }, company: base.company, free: false })
  p.companyText = base.companyText || base.company.name
  p.possible = 'similar_name_same_company'
  const idx = csvRows.findIndex(r => r.person === base)
  csvRows.push({ key: idx + int(1, 600) + 0.25, person: p, email: p.email, phone: p.phone, kind: 'original', possible: 'similar_name_same_company' })
  similar++
}

// duplicates inside the CSV (of earlier CSV rows) and of capture people
function dupRow (base, src) {
  const v = emailVariant(base.email)
  const d = { ...base }
  d.email = v.email
  d.source = chance(0.6) ? wpick(SOURCES) : base.source
  d.campaign = campaignFor(d.source)
  d.phone = chance(0.55) ? (base.phone ? (chance(0.5) ? base.phone : retypePhone(base)) : '') : ''
  if (!d.job_title && chance(0.5)) d.job_title = jobTitle(wpick(TITLE_WEIGHTS.filter(t => t[0] !== 'none')))
  if (!d.industry && d.company && chance(0.3)) d.industry = d.company.industry
  if (chance(0.15)) d.first = d.first.toLowerCase()
  if (chance(0.2)) d.companyText = ''
  d.dupKind = v.kind
  d.dupOf = src
  return d
}
const csvWithEmail = csvRows.filter(r => r.email && r.kind === 'original')
for (let i = 0; i < 232; i++) {
  const baseRow = pick(csvWithEmail)
  const d = dupRow(baseRow.person, 'csv')
  csvRows.push({ key: baseRow.key + int(1, 900) + 0.75, person: d, email: d.email, phone: d.phone, kind: 'duplicate', dupKind: d.dupKind, dupOf: 'csv' })
}
const capWithEmail = capPeople.filter(p => p.email)
for (let i = 0; i < 70; i++) {
  const base = pick(capWithEmail)
  const d = dupRow(base, 'capture')
  csvRows.push({ key: int(0, N_CSV_ORIG) + 0.6, person: d, email: d.email, phone: d.phone, kind: 'duplicate', dupKind: d.dupKind, dupOf: 'capture' })
}
// bad rows
for (let i = 0; i < 76; i++) {
  const kind = wpick([['nocontact', 30], ['bademail', 42], ['badphone', 28]])
  const p = badRow(kind)
  csvRows.push({ key: int(0, N_CSV_ORIG) + 0.9, person: p, email: p.email, phone: p.phone, kind: 'bad', bad: kind })
}
csvRows.sort((a, b) => a.key - b.key)

// capture: duplicates of CSV people, duplicates within capture, bad payloads
for (let i = 0; i < 40; i++) {
  const baseRow = pick(csvWithEmail)
  const d = dupRow(baseRow.person, 'csv')
  d.shape = wpick([['flat', 40], ['meta', 32], ['google', 28]])
  d.source = d.shape === 'meta' ? 'meta_ads' : d.shape === 'google' ? 'google_ads' : pick(['web_form', 'landing_page', 'chat'])
  d.campaign = campaignFor(d.source)
  captureItems.push({ key: int(0, N_CAP_ORIG) + 0.5, person: d, email: d.email, kind: 'duplicate', dupOf: 'csv', dupKind: d.dupKind })
}
for (let i = 0; i < 14; i++) {
  const bi = int(0, N_CAP_ORIG - 60)
  const base = capPeople[bi]
  if (!base.email) { i--; continue }
  const d = dupRow(base, 'capture')
  d.shape = base.shape
  d.source = base.source
  d.campaign = base.campaign
  captureItems.push({ key: bi + int(1, 60) + 0.7, person: d, email: d.email, kind: 'duplicate', dupOf: 'capture', dupKind: d.dupKind })
}
const BAD_SHAPES = ['flat_name_company', 'flat_name_company', 'flat_utm_only', 'flat_empty_strings', 'meta_name_city', 'meta_name_city', 'meta_empty', 'google_name_company', 'google_name_company', 'google_empty']
for (const b of BAD_SHAPES) {
  const p = makePerson({ noEmail: true, phoneRate: 0 })
  p.phone = ''; p.phoneObj = null
  p.shape = b.split('_')[0]
  p.source = p.shape === 'meta' ? 'meta_ads' : p.shape === 'google' ? 'google_ads' : 'web_form'
  p.badShape = b
  captureItems.push({ key: int(0, N_CAP_ORIG) + 0.8, person: p, email: '', kind: 'bad', bad: b })
}
captureItems.sort((a, b) => a.key - b.key)

// ---------------------------------------------------------------------------
// payload renderers

const META_CUSTOM = [
  ['how_many_employees_work_at_your_company?', ['1-10', '11-50', '51-200', '201-500', '501-1000', '1000+']],
  ['what_is_your_timeline?', ['Within 1 month', 'Within 3 months', 'This year', 'Just researching']],
  ['which_crm_do_you_use_today?', ['Salesforce', 'HubSpot', 'Pipedrive', 'Spreadsheet', 'None']]
]
const FAV = ['blue', 'green', 'teal', 'orange', 'purple', 'red']
const metaTime = () => iso(daysBefore(rnd() * 30)).replace('Z', '+0000')

function flatPayload (p, bad) {
  const o = {}
  const put = (k, v) => { if (v !== '' && v !== null && v !== undefined) o[k] = v }
  if (bad === 'flat_utm_only') {
    return { utm_source: 'linkedin', utm_medium: 'paid_social', utm_campaign: 'q4-brand', page_url: 'https://www.leadflow-demo.com/demo' }
  }
  put('first_name', p.first)
  put('last_name', p.last)
  if (bad === 'flat_empty_strings') { o.email = ''; o.phone = '' } else if (!bad) {
    put('email', p.email)
    put('phone', p.phone)
  }
  put('company', p.companyText)
  if (bad) return o
  put('job_title', p.job_title)
  put('country', p.countryTyped)
  if (chance(0.6)) put('city', p.city)
  if (chance(0.3)) put('state', p.state)
  if (chance(0.25)) put('postal_code', p.postal)
  put('industry', p.industry)
  if (p.company_size) o.company_size = Number(p.company_size)
  if (p.annual_revenue && chance(0.5)) o.annual_revenue = Number(p.annual_revenue)
  put('campaign', p.campaign)
  if (chance(0.7)) {
    o.utm_source = pick(['google', 'linkedin', 'newsletter', 'twitter', 'direct', 'bing'])
    o.utm_medium = pick(['cpc', 'email', 'organic', 'social', 'referral'])
    if (chance(0.5)) o.utm_campaign = slugDash(p.campaign || 'always-on')
  }
  if (chance(0.4)) o.page_url = 'https://www.leadflow-demo.com' + pick(['/demo', '/pricing', '/contact', '/trial', '/resources/lead-routing-guide'])
  if (chance(0.3)) o.consent_marketing = chance(0.8)
  if (chance(0.06)) o.favorite_color = pick(FAV)
  if (chance(0.1)) o.referrer = pick(['https://www.google.com/', 'https://www.linkedin.com/', 'https://news.ycombinator.com/'])
  return o
}

function metaPayload (p, bad) {
  const fd = []
  const add = (name, v) => { if (v !== '' && v !== null && v !== undefined) fd.push({ name, values: [String(v)] }) }
  if (bad === 'meta_empty') {
    // nothing the user typed
  } else if (chance(0.5) || bad) {
    add('full_name', `${p.first} ${p.last}`)
  } else {
    add('first_name', p.first)
    add('last_name', p.last)
  }
  if (!bad) {
    add('email', p.email)
    if (p.phoneObj) add('phone_number', p.phoneObj.e164)
    if (chance(0.7)) add('company_name', p.companyText)
    if (chance(0.65)) add('job_title', p.job_title)
  }
  if (chance(0.5) || bad === 'meta_name_city') add('city', p.city)
  if (!bad) {
    if (chance(0.5)) add('country', p.country)
    if (chance(0.25)) add(p.country === 'US' ? 'zip_code' : 'post_code', p.postal)
    if (chance(0.4)) { const [q, a] = pick(META_CUSTOM); add(q, pick(a)) }
  }
  const o = {
    id: '1' + digits(15),
    created_time: metaTime(),
    ad_id: '238' + digits(14),
    form_id: '1' + digits(14),
    field_data: fd
  }
  if (chance(0.6)) {
    o.campaign_id = '238' + digits(14)
    o.campaign_name = p.campaign || 'Meta - Lead Form Oct 2026'
    o.adset_id = '238' + digits(14)
  }
  if (chance(0.5)) o.platform = pick(['fb', 'ig'])
  if (chance(0.3)) o.is_organic = false
  return o
}

const GCOL = { FULL_NAME: 'Full Name', FIRST_NAME: 'First Name', LAST_NAME: 'Last Name', EMAIL: 'User Email', PHONE_NUMBER: 'User Phone', COMPANY_NAME: 'Company Name', JOB_TITLE: 'Job Title', CITY: 'City', COUNTRY: 'Country', POSTAL_CODE: 'Postal Code' }
function googlePayload (p, bad) {
  const ucd = []
  const add = (id, v) => {
    if (v === '' || v === null || v === undefined) return
    const e = { column_name: GCOL[id], string_value: String(v), column_id: id }
    if (chance(0.1)) delete e.column_name // "might not always be populated"
    ucd.push(e)
  }
  if (bad !== 'google_empty') {
    if (chance(0.55) || bad) add('FULL_NAME', `${p.first} ${p.last}`)
    else { add('FIRST_NAME', p.first); add('LAST_NAME', p.last) }
  }
  if (!bad) {
    add('EMAIL', p.email)
    if (p.phoneObj) add('PHONE_NUMBER', p.phoneObj.e164)
  }
  if (bad === 'google_name_company' || (!bad && chance(0.7))) add('COMPANY_NAME', p.companyText)
  if (!bad) {
    if (chance(0.6)) add('JOB_TITLE', p.job_title)
    if (chance(0.4)) add('CITY', p.city)
    if (chance(0.5)) add('COUNTRY', p.country)
    if (chance(0.35)) add('POSTAL_CODE', p.postal)
  }
  return {
    lead_id: faker.string.alphanumeric({ length: 20 }) + '-' + faker.string.alphanumeric({ length: 12 }),
    user_column_data: ucd,
    api_version: '1.0',
    form_id: Number('1' + digits(10)),
    campaign_id: Number('2' + digits(10)),
    google_key: 'leadflow-demo-webhook-key',
    is_test: false,
    gcl_id: 'Cj0KCQ' + faker.string.alphanumeric({ length: 72 }) + '_BwE',
    adgroup_id: Number('1' + digits(11)),
    creative_id: Number('6' + digits(11))
  }
}

// ---------------------------------------------------------------------------
// CSV writer (RFC 4180 quoting, LF line ends, empty field = NULL for COPY)

function csvField (v) {
  if (v === null || v === undefined || v === '') return ''
  const s = String(v)
  if (/[",\r\n]/.test(s) || /^\s|\s$/.test(s)) return '"' + s.replace(/"/g, '""') + '"'
  return s
}
function writeCsv (file, header, rows) {
  const lines = [header.join(',')]
  for (const r of rows) lines.push(header.map(h => csvField(r[h])).join(','))
  writeFileSync(join(OUT, file), lines.join('\n') + '\n')
  return rows.length
}

// ---------------------------------------------------------------------------
// write: teams, reps, accounts

writeCsv('teams.csv', ['name', 'strategy'], TEAMS.map(([name, strategy]) => ({ name, strategy })))
writeCsv('reps.csv', ['team', 'name', 'email', 'role', 'active', 'accepting_leads', 'max_open_leads', 'weight', 'away_from', 'away_until'],
  REPS.map(r => ({ team: r.team, name: r.name, email: r.email, role: r.role, active: String(r.active), accepting_leads: String(r.accepting), max_open_leads: r.max ?? '', weight: r.weight, away_from: r.away ? r.away[0] : '', away_until: r.away ? r.away[1] : '' })))
const accountRows = companies.filter(c => c.account).map(c => ({ name: c.name, domain: c.ascii, owner_email: c.owner }))
writeCsv('accounts.csv', ['name', 'domain', 'owner_email'], accountRows)

// company_profiles: 2 providers, conflicts, priority and updated_at
const profileRows = []
const withLeads = new Set(csvRows.concat(captureItems).map(r => r.person.company).filter(Boolean))
const profiled = companies.filter(c => c.account)
for (const c of shuffle(companies.filter(c => !c.account && withLeads.has(c)))) {
  if (profiled.length >= 150) break
  profiled.push(c)
}
profiled.sort((a, b) => (a.ascii < b.ascii ? -1 : 1))
const noisy = (n, lo, hi) => Math.max(1, Math.round(n * (lo + rnd() * (hi - lo))))
const sig3 = n => { const mag = Math.pow(10, Math.max(0, Math.floor(Math.log10(n)) - 2)); return Math.round(n / mag) * mag }
for (const c of profiled) {
  const which = wpick([['both', 60], ['clearbit_like', 24], ['zoominfo_like', 16]])
  const cbDate = daysBefore(int(20, 420))
  const ziDate = daysBefore(int(5, 520))
  if (which !== 'zoominfo_like') {
    profileRows.push({
      domain: c.ascii, industry: chance(0.95) ? c.industry : '', company_size: chance(0.9) ? noisy(c.size, 0.92, 1.08) : '',
      annual_revenue: chance(0.8) ? sig3(noisy(c.revenue, 0.9, 1.1)) : '', country: chance(0.97) ? c.country : '',
      provider: 'clearbit_like', priority: 20, updated_at: iso(cbDate)
    })
  }
  if (which !== 'clearbit_like') {
    const prio = wpick([[10, 80], [20, 14], [30, 6]])
    let country = c.country
    if (chance(0.05)) country = pick(['US', 'GB', 'IE', 'NL'])
    profileRows.push({
      domain: c.ascii, industry: chance(0.92) ? IND[c.industry][1] : '', company_size: chance(0.95) ? noisy(c.size, 0.75, 1.3) : '',
      annual_revenue: chance(0.9) ? sig3(noisy(c.revenue, 0.7, 1.35)) : '', country: chance(0.97) ? country : '',
      provider: 'zoominfo_like', priority: prio, updated_at: iso(ziDate)
    })
  }
}
writeCsv('company_profiles.csv', ['domain', 'industry', 'company_size', 'annual_revenue', 'country', 'provider', 'priority', 'updated_at'], profileRows)

// leads_import.csv
const LEAD_HEADER = ['first_name', 'last_name', 'email', 'phone', 'company', 'job_title', 'industry', 'company_size', 'annual_revenue', 'country', 'state', 'city', 'postal_code', 'source', 'campaign']
function leadRow (r) {
  const p = r.person
  const showCity = p.countryTyped ? chance(0.75) : chance(0.3)
  return {
    first_name: p.first, last_name: p.last, email: r.email, phone: r.phone, company: p.companyText,
    job_title: p.job_title, industry: p.industry, company_size: p.company_size, annual_revenue: p.annual_revenue,
    country: p.countryTyped, state: showCity && chance(0.7) ? p.state : '', city: showCity ? p.city : '',
    postal_code: showCity && chance(0.5) ? p.postal : '', source: p.source, campaign: p.campaign
  }
}
writeCsv('leads_import.csv', LEAD_HEADER, csvRows.map(leadRow))

// capture.jsonl
const capLines = captureItems.map(it => {
  const p = it.person
  const bad = it.kind === 'bad' ? it.bad : null
  const payload = p.shape === 'meta' ? metaPayload(p, bad) : p.shape === 'google' ? googlePayload(p, bad) : flatPayload(p, bad)
  return JSON.stringify({ source: p.source, payload })
})
writeFileSync(join(OUT, 'capture.jsonl'), capLines.join('\n') + '\n')

// ---------------------------------------------------------------------------
// signals: skewed engagement over the originals that have an e-mail

const PAGES = [['/pricing', 14], ['/product', 12], ['/demo', 6], ['/docs/api', 6], ['/customers', 6], ['/blog/lead-routing-101', 8], ['/blog/speed-to-lead', 6], ['/integrations/salesforce', 5], ['/security', 4], ['/pricing/enterprise', 4], ['/careers', 3], ['/', 10]]
const ASSETS = ['2026 Lead Routing Benchmark', 'Speed-to-Lead Playbook', 'ROI Calculator', "Buyer's Guide to Lead Management", 'SLA Template Pack']
const EMAIL_CAMPAIGNS = ['Newsletter Oct 2026', 'Nurture - Webinar Follow-up', 'Product Launch Nov 2026', 'Nurture - Trial Day 3']
function signalProps (kind) {
  switch (kind) {
    case 'page_view': return { path: wpick(PAGES) }
    case 'email_open': return { campaign: pick(EMAIL_CAMPAIGNS) }
    case 'email_click': return { campaign: pick(EMAIL_CAMPAIGNS), url: pick(['/pricing', '/demo', '/resources/lead-routing-guide', '/blog/speed-to-lead']) }
    case 'form_submit': return { form: pick(['demo_request', 'contact_sales', 'newsletter', 'webinar_registration', 'trial_signup']) }
    case 'content_download': return { asset: pick(ASSETS), format: 'pdf' }
    case 'reply': return { channel: 'email', sentiment: wpick([['positive', 50], ['neutral', 35], ['negative', 15]]) }
    case 'meeting_booked': return { meeting_type: pick(['demo', 'discovery', 'technical_deep_dive']), duration_minutes: pick([30, 30, 45, 60]) }
  }
}
const engageable = []
for (const r of csvRows) if (r.kind === 'original' && r.email && !r.person.possible) engageable.push(r.person)
for (const it of captureItems) if (it.kind === 'original' && it.email) engageable.push(it.person)
const signalRows = []
for (const p of engageable) {
  const tier = wpick([['none', 62], ['low', 25], ['mid', 9], ['high', 4]])
  if (tier === 'none') continue
  const n = tier === 'low' ? int(1, 2) : tier === 'mid' ? int(3, 6) : int(8, 20)
  const kinds = tier === 'high'
    ? [['page_view', 38], ['email_open', 16], ['email_click', 12], ['form_submit', 8], ['content_download', 10], ['reply', 9], ['meeting_booked', 7]]
    : [['page_view', 50], ['email_open', 24], ['email_click', 10], ['form_submit', 5], ['content_download', 8], ['reply', 2], ['meeting_booked', 1]]
  const span = tier === 'high' ? 14 : 45
  for (let i = 0; i < n; i++) {
    const kind = wpick(kinds)
    signalRows.push({ email: p.email, kind, days_ago: int(0, span), properties_json: JSON.stringify(signalProps(kind)) })
  }
}
writeCsv('signals.csv', ['email', 'kind', 'days_ago', 'properties_json'], signalRows)

// ---------------------------------------------------------------------------
// activities

function likelyTeam (p) {
  if (p.titleKind === 'student') return null
  if (p.source === 'partner') return 'Partners'
  if (p.source === 'trade_show' || (p.company && p.company.size >= 1000 && p.company_size)) return 'Enterprise AE'
  if (['DE', 'FR', 'GB'].includes(p.countryTyped)) return 'EMEA'
  return 'Inbound SDR'
}
const SUBJECTS = {
  call: ['Intro call', 'Left voicemail', 'Discovery call', 'Follow-up call', 'No answer'],
  email: ['Re: your demo request', 'Following up', 'Pricing information', 'Quick question about your routing setup', 'Case study you asked for'],
  meeting: ['Product demo', 'Discovery meeting', 'Technical deep dive', 'Pricing review'],
  note: ['Budget confirmed for Q1', 'Evaluating a competitor', 'Decision maker is the VP Sales', 'Wants SSO and audit log', 'Not a fit right now'],
  task: ['Send case study', 'Follow up next week', 'Prepare proposal', 'Book technical call']
}
const activityRows = []
const touched = shuffle(engageable.filter(p => likelyTeam(p))).slice(0, 470)
for (const p of touched) {
  const team = likelyTeam(p)
  const r = pick(routable(team))
  const first = wpick([[int(1, 5), 38], [int(6, 60), 30], [int(61, 1440), 20], [int(1441, 7200), 12]])
  const kind1 = wpick([['call', 55], ['email', 45]])
  activityRows.push({ email: p.email, rep_email: r.email, kind: kind1, subject: pick(SUBJECTS[kind1]), minutes_after_creation: first, completed: chance(0.95) })
  const more = wpick([[0, 50], [1, 30], [2, 15], [3, 5]])
  let t = first
  for (let i = 0; i < more; i++) {
    t += int(60, 60 * 24 * 10)
    const kind = wpick([['call', 25], ['email', 30], ['meeting', 15], ['note', 15], ['task', 15]])
    activityRows.push({ email: p.email, rep_email: r.email, kind, subject: pick(SUBJECTS[kind]), minutes_after_creation: t, completed: kind === 'task' ? chance(0.45) : chance(0.88) })
  }
}
writeCsv('activities.csv', ['email', 'rep_email', 'kind', 'subject', 'minutes_after_creation', 'completed'], activityRows.map(a => ({ ...a, completed: String(a.completed) })))

// ---------------------------------------------------------------------------
// source spend (paid sources, the 6 months before 2026-12)

const MONTHS = ['2026-06-01', '2026-07-01', '2026-08-01', '2026-09-01', '2026-10-01', '2026-11-01']
const SPEND = {
  google_ads: m => 18000 + rnd() * 8000,
  meta_ads: m => 9000 + rnd() * 6000,
  trade_show: m => ({ '2026-06-01': 0, '2026-07-01': 12500, '2026-08-01': 0, '2026-09-01': 46000, '2026-10-01': 31500, '2026-11-01': 18000 })[m],
  email_campaign: m => 1200 + rnd() * 800,
  partner: m => 5000 + rnd() * 3500
}
const spendRows = []
for (const [source, f] of Object.entries(SPEND)) for (const m of MONTHS) spendRows.push({ source, month: m, amount: f(m).toFixed(2) })
writeCsv('source_spend.csv', ['source', 'month', 'amount'], spendRows)

// ---------------------------------------------------------------------------
// routing rules (contract §4 predicate language, §5.6c)

const RULES = [
  // shadow first: it is evaluated and logged for every lead, never assigns
  ['Shadow: North American mid-market to Miguel', 'shadow', { all: [{ field: 'company_size', op: 'between', value: [200, 999] }, { field: 'country', op: 'in', value: ['US', 'CA'] }, { not: { field: 'source', op: 'eq', value: 'cold_call' } }] }, 'rep', rep('Miguel Santos').email],
  ['Students to nurture queue', 'live', { field: 'job_title', op: 'contains', value: 'student' }, 'queue', ''],
  ['Phone-only leads without company to queue', 'live', { all: [{ field: 'email', op: 'missing' }, { field: 'company', op: 'missing' }] }, 'queue', ''],
  ['Partner-sourced leads', 'live', { field: 'source', op: 'eq', value: 'partner' }, 'team', 'Partners'],
  ['Trade show leads to Enterprise AE', 'live', { field: 'source', op: 'eq', value: 'trade_show' }, 'team', 'Enterprise AE'],
  ['Enterprise by company size', 'live', { field: 'company_size', op: 'ge', value: 1000 }, 'team', 'Enterprise AE'],
  ['Senior titles from paid ads to Grace', 'live', { all: [{ field: 'source', op: 'in', value: ['google_ads', 'meta_ads'] }, { any: [{ field: 'job_title', op: 'prefix', value: 'VP' }, { field: 'job_title', op: 'prefix', value: 'Chief' }, { field: 'job_title', op: 'in', value: ['CEO', 'CTO', 'CFO', 'COO', 'CMO', 'CIO'] }] }] }, 'rep', rep('Grace Liu').email],
  ['EMEA territory', 'live', { field: 'country', op: 'in', value: ['DE', 'FR', 'GB'] }, 'team', 'EMEA'],
  ['Web sources to Inbound SDR', 'live', { field: 'source', op: 'in', value: ['web_form', 'landing_page', 'chat', 'meta_ads', 'google_ads', 'email_campaign'] }, 'team', 'Inbound SDR']
]
writeCsv('routing_rules.csv', ['position', 'name', 'mode', 'predicate_json', 'assign_to', 'target'],
  RULES.map(([name, mode, pred, assign, target], i) => ({ position: (i + 1) * 10, name, mode, predicate_json: JSON.stringify(pred), assign_to: assign, target })))

console.log(`leads_import.csv ${csvRows.length} rows, capture.jsonl ${capLines.length} lines, signals ${signalRows.length}, activities ${activityRows.length}, profiles ${profileRows.length} (${profiled.length} domains), accounts ${accountRows.length}, companies ${companies.length}`)
