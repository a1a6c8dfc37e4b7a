// Measures data/sample/ and data/free_email_domains.txt from the files alone
// (it does not trust the generator): row counts, duplicate / free-mail /
// bad / phone-only shares, references between files.
//
//   cd data && node check.mjs          (exit 1 on a broken reference)

import { readFileSync, readdirSync, statSync } from 'node:fs'
import { domainToASCII, fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { parsePhoneNumberFromString } from 'libphonenumber-js/max'

const here = dirname(fileURLToPath(import.meta.url))
const S = join(here, 'sample')
const problems = []
const fail = m => problems.push(m)
const pct = (a, b) => b ? (100 * a / b).toFixed(1) + '%' : '-'

// --- RFC 4180 parser ---------------------------------------------------------
function parseCsv (text) {
  const rows = []
  let row = []; let f = ''; let q = false; let i = 0; let quoted = false
  while (i < text.length) {
    const ch = text[i]
    if (q) {
      if (ch === '"') { if (text[i + 1] === '"') { f += '"'; i += 2; continue } q = false; i++; continue }
      f += ch; i++; continue
    }
    if (ch === '"') { q = true; quoted = true; i++; continue }
    if (ch === ',') { row.push(quoted ? f : (f === '' ? null : f)); f = ''; quoted = false; i++; continue }
    if (ch === '\n' || ch === '\r') {
      row.push(quoted ? f : (f === '' ? null : f)); rows.push(row); row = []; f = ''; quoted = false
      i += (ch === '\r' && text[i + 1] === '\n') ? 2 : 1; continue
    }
    f += ch; i++
  }
  if (f !== '' || row.length) { row.push(quoted ? f : (f === '' ? null : f)); rows.push(row) }
  return rows
}
function readCsv (file, header) {
  const text = readFileSync(join(S, file), 'utf8')
  if (text.charCodeAt(0) === 0xfeff) fail(`${file}: has a BOM`)
  const [h, ...rows] = parseCsv(text)
  if (h.join(',') !== header.join(',')) fail(`${file}: header ${h.join(',')} != ${header.join(',')}`)
  rows.forEach((r, i) => { if (r.length !== h.length) fail(`${file}: row ${i + 2} has ${r.length} fields`) })
  return rows.map(r => Object.fromEntries(h.map((k, j) => [k, r[j]])))
}

// --- normalization as the contract says (§5.2) -------------------------------
const FREE = new Set(readFileSync(join(here, 'free_email_domains.txt'), 'utf8').split('\n').filter(Boolean))
const MULTI = new Set(['co.uk', 'org.uk', 'com.au', 'net.au', 'co.in', 'com.br', 'com.sg'])
const LOCAL_RE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/
const LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
function emailInfo (raw) {
  if (raw === null || raw === undefined) return null
  const e = String(raw).trim()
  if (e === '') return null
  const at = e.lastIndexOf('@')
  const bad = { raw, valid: false }
  if (at <= 0 || e.indexOf('@') !== at) return bad
  const local = e.slice(0, at)
  const dom = domainToASCII(e.slice(at + 1).toLowerCase())
  if (!LOCAL_RE.test(local) || !dom || !dom.includes('.') || !dom.split('.').every(l => LABEL_RE.test(l))) return bad
  let nl = local.toLowerCase().replace(/\+.*$/, '')
  if (dom === 'gmail.com') nl = nl.replace(/\./g, '')
  const labels = dom.split('.')
  const suffix2 = labels.slice(-2).join('.')
  const registrable = MULTI.has(suffix2) ? labels.slice(-3).join('.') : labels.slice(-2).join('.')
  let free = false
  for (let k = 0; k < labels.length - 1; k++) if (FREE.has(labels.slice(k).join('.'))) free = true
  return {
    raw, valid: true, norm: `${nl}@${dom}`, domain: dom, registrable, free,
    idn: /[^\x00-\x7f]/.test(e.slice(at + 1)) || dom.includes('xn--'),
    sub: dom !== registrable
  }
}
function phoneInfo (raw, country) {
  if (raw === null || raw === undefined || String(raw).trim() === '') return null
  const p = parsePhoneNumberFromString(String(raw), country || 'US')
  return { raw, valid: !!(p && p.isValid()), e164: p && p.number, intl: String(raw).trim().startsWith('+') || String(raw).trim().startsWith('00') }
}

// --- teams, reps, accounts ------------------------------------------------------
const teams = readCsv('teams.csv', ['name', 'strategy'])
const reps = readCsv('reps.csv', ['team', 'name', 'email', 'role', 'active', 'accepting_leads', 'max_open_leads', 'weight', 'away_from', 'away_until'])
const accounts = readCsv('accounts.csv', ['name', 'domain', 'owner_email'])
const teamNames = new Set(teams.map(t => t.name))
const repEmails = new Set(reps.map(r => r.email))
for (const t of teams) if (!['round_robin', 'weighted_round_robin', 'load_balanced'].includes(t.strategy)) fail(`team ${t.name}: strategy ${t.strategy}`)
for (const r of reps) {
  if (!teamNames.has(r.team)) fail(`rep ${r.email}: unknown team`)
  if (!['sdr', 'ae', 'manager'].includes(r.role)) fail(`rep ${r.email}: role ${r.role}`)
  if (!(Number(r.weight) >= 1)) fail(`rep ${r.email}: weight`)
  if ((r.away_from === null) !== (r.away_until === null)) fail(`rep ${r.email}: half an away window`)
}
for (const t of teams) if (reps.filter(r => r.team === t.name && r.role === 'manager').length !== 1) fail(`team ${t.name}: not exactly one manager`)
const accountDomains = new Set(accounts.map(a => a.domain))
for (const a of accounts) {
  if (!repEmails.has(a.owner_email)) fail(`account ${a.name}: owner ${a.owner_email} not a rep`)
  if (a.domain !== domainToASCII(a.domain) || FREE.has(a.domain)) fail(`account ${a.name}: domain ${a.domain}`)
}
if (accountDomains.size !== accounts.length) fail('accounts: duplicate domain')

// --- company profiles --------------------------------------------------------------
const profiles = readCsv('company_profiles.csv', ['domain', 'industry', 'company_size', 'annual_revenue', 'country', 'provider', 'priority', 'updated_at'])
const byDomain = new Map()
for (const p of profiles) {
  if (!byDomain.has(p.domain)) byDomain.set(p.domain, [])
  byDomain.get(p.domain).push(p)
  if (p.company_size !== null && !/^\d+$/.test(p.company_size)) fail(`profile ${p.domain}: company_size ${p.company_size}`)
  if (p.annual_revenue !== null && !/^\d+(\.\d+)?$/.test(p.annual_revenue)) fail(`profile ${p.domain}: revenue`)
  if (isNaN(Date.parse(p.updated_at))) fail(`profile ${p.domain}: updated_at`)
}
let both = 0; let conflicts = 0; let tiePriority = 0
for (const [, rows] of byDomain) {
  if (rows.length === 2) {
    both++
    const [a, b] = rows
    if (['industry', 'company_size', 'annual_revenue', 'country'].some(k => a[k] && b[k] && a[k] !== b[k])) conflicts++
    if (a.priority === b.priority) tiePriority++
  }
}
const unprofiledAccounts = [...accountDomains].filter(d => !byDomain.has(d))
if (unprofiledAccounts.length) fail('accounts without profile: ' + unprofiledAccounts.join(' '))

// --- leads_import.csv and capture.jsonl ------------------------------------------------
const LEAD_HEADER = ['first_name', 'last_name', 'email', 'phone', 'company', 'job_title', 'industry', 'company_size', 'annual_revenue', 'country', 'state', 'city', 'postal_code', 'source', 'campaign']
const SOURCES = ['web_form', 'landing_page', 'meta_ads', 'google_ads', 'trade_show', 'referral', 'cold_call', 'email_campaign', 'partner', 'chat']
const leads = readCsv('leads_import.csv', LEAD_HEADER)

const META = { full_name: 'full_name', first_name: 'first_name', last_name: 'last_name', email: 'email', phone_number: 'phone', company_name: 'company', job_title: 'job_title', city: 'city', country: 'country', zip_code: 'postal_code', post_code: 'postal_code' }
const GOOG = { FULL_NAME: 'full_name', FIRST_NAME: 'first_name', LAST_NAME: 'last_name', EMAIL: 'email', PHONE_NUMBER: 'phone', COMPANY_NAME: 'company', JOB_TITLE: 'job_title', CITY: 'city', COUNTRY: 'country', POSTAL_CODE: 'postal_code' }
const capture = readFileSync(join(S, 'capture.jsonl'), 'utf8').split('\n').filter(Boolean).map((line, i) => {
  const o = JSON.parse(line)
  const p = o.payload
  let shape; let f = {}
  if (Array.isArray(p.field_data)) { shape = 'meta'; for (const x of p.field_data) if (META[x.name]) f[META[x.name]] = x.values[0] }
  else if (Array.isArray(p.user_column_data)) { shape = 'google'; for (const x of p.user_column_data) if (GOOG[x.column_id]) f[GOOG[x.column_id]] = x.string_value }
  else { shape = 'flat'; f = p }
  if (!SOURCES.includes(o.source)) fail(`capture line ${i + 1}: source ${o.source}`)
  return { shape, source: o.source, f, unknownKeys: shape === 'flat' ? Object.keys(p).filter(k => !LEAD_HEADER.includes(k)) : [] }
})

function classify (email, phone, country) {
  const e = emailInfo(email)
  const p = phoneInfo(phone, country)
  const bad = (!e && !p) ? 'no_contact' : (e && !e.valid) ? 'bad_email' : (p && !p.valid) ? 'bad_phone' : null
  return { e, p, bad, phoneOnly: !bad && !e && !!p }
}
const L = leads.map(r => ({ ...classify(r.email, r.phone, r.country), r }))
const K = capture.map(c => ({ ...classify(c.f.email, c.f.phone, c.f.country), c }))

for (const x of L) if (!SOURCES.includes(x.r.source)) fail(`lead source ${x.r.source}`)

function dupStats (seq, seenBefore = new Set()) {
  const seen = new Set(seenBefore)
  let dups = 0; const kinds = {}
  for (const x of seq) {
    if (x.bad || !x.e) continue
    if (seen.has(x.e.norm)) {
      dups++
      const raw = String(x.e.raw)
      const k = raw !== raw.trim() ? 'spaces' : raw.includes('+') ? 'plus_tag' : raw !== raw.toLowerCase() ? 'case' : (x.e.domain === 'gmail.com') ? 'gmail_dots_or_same' : x.e.idn && raw.includes('xn--') ? 'punycode' : 'same'
      kinds[k] = (kinds[k] || 0) + 1
    }
    seen.add(x.e.norm)
  }
  return { dups, kinds, seen }
}
const csvOnly = dupStats(L)
const capOnly = dupStats(K)
const capThenCsv = dupStats(L, capOnly.seen) // rows of the CSV that merge when capture.jsonl is loaded first
const csvThenCap = dupStats(K, csvOnly.seen)
const allSeq = dupStats([...K, ...L])

// possible duplicates: same phone (E.164), or same company with the same last
// name and a similar first name (or the other way round), different/no e-mail
function lev (a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
  return d[a.length][b.length]
}
const NICK = [['john', 'jon'], ['jonathan', 'jon'], ['william', 'bill'], ['robert', 'bob'], ['richard', 'rick'], ['michael', 'mike'], ['elizabeth', 'liz'], ['katherine', 'kathy'], ['catherine', 'cathy'], ['jennifer', 'jenny'], ['alexander', 'alex'], ['alexandra', 'alex'], ['christopher', 'chris'], ['matthew', 'matt'], ['daniel', 'dan'], ['thomas', 'tom'], ['samuel', 'sam'], ['benjamin', 'ben'], ['joseph', 'joe'], ['james', 'jim'], ['margaret', 'maggie'], ['patricia', 'pat'], ['nicholas', 'nick'], ['andrew', 'andy'], ['anthony', 'tony'], ['stephanie', 'steph']]
const similarFirst = (a, b) => a === b || lev(a, b) <= 1 || NICK.some(([x, y]) => (a === x && b === y) || (a === y && b === x))
function possible (seq) {
  const phones = new Map(); const people = new Map(); let byPhone = 0; let byName = 0
  const coKey = s => (s || '').toLowerCase().replace(/\s+(inc\.|llc|ltd|plc|gmbh.*|ag|sas|sa|sarl|pvt ltd|pty ltd|b\.v\.|s\.l\.|s\.a\.|ltda\.|pte ltd|se|llp)$/, '').replace(/[^a-z0-9]/g, '')
  for (const x of seq) {
    if (x.bad) continue
    const norm = x.e ? x.e.norm : null
    if (x.p && x.p.valid) {
      const prev = phones.get(x.p.e164)
      if (prev !== undefined && prev !== norm) byPhone++
      if (prev === undefined) phones.set(x.p.e164, norm)
    }
    const co = coKey(x.r.company)
    if (!co || !x.r.first_name || !x.r.last_name) continue
    const first = x.r.first_name.toLowerCase(); const last = x.r.last_name.toLowerCase()
    const list = people.get(co) || []
    if (list.some(o => o.norm !== norm && ((o.last === last && similarFirst(o.first, first)) || (o.first === first && lev(o.last, last) === 1 && last.length > 4)))) byName++
    list.push({ first, last, norm })
    people.set(co, list)
  }
  return { byPhone, byName }
}
const poss = possible(L)

const withEmail = L.filter(x => !x.bad && x.e)
const freeMail = withEmail.filter(x => x.e.free)
const corp = withEmail.filter(x => !x.e.free)
const bad = L.filter(x => x.bad)
const badKinds = {}; for (const x of bad) badKinds[x.bad] = (badKinds[x.bad] || 0) + 1
const phoneOnly = L.filter(x => x.phoneOnly)
const withPhone = L.filter(x => !x.bad && x.p)
const intlPhone = withPhone.filter(x => x.p.intl)
const emptyShare = k => pct(corp.filter(x => !x.r[k]).length, corp.length)
const accountLeads = corp.filter(x => accountDomains.has(x.e.registrable))
const profiledLeads = corp.filter(x => byDomain.has(x.e.registrable))
// a national-format phone with no country can only be read with the org default (US)
const nationalNoCountry = withPhone.filter(x => !x.r.country && !x.p.intl && !x.p.e164.startsWith('+1'))
if (nationalNoCountry.length) fail(`${nationalNoCountry.length} non-NANP national phones without country`)
const needHint = withPhone.filter(x => { const u = parsePhoneNumberFromString(String(x.p.raw), 'US'); return !(u && u.isValid() && u.number === x.p.e164) })
const countBy = (arr, f) => arr.reduce((m, x) => { const k = f(x); m[k] = (m[k] || 0) + 1; return m }, {})

// --- signals, activities, spend, rules -----------------------------------------------------
const signals = readCsv('signals.csv', ['email', 'kind', 'days_ago', 'properties_json'])
const activities = readCsv('activities.csv', ['email', 'rep_email', 'kind', 'subject', 'minutes_after_creation', 'completed'])
const spend = readCsv('source_spend.csv', ['source', 'month', 'amount'])
const rules = readCsv('routing_rules.csv', ['position', 'name', 'mode', 'predicate_json', 'assign_to', 'target'])
const known = allSeq.seen
for (const s of signals) {
  const e = emailInfo(s.email)
  if (!e || !e.valid || !known.has(e.norm)) fail(`signal for unknown lead ${s.email}`)
  JSON.parse(s.properties_json)
}
const perLead = Object.values(countBy(signals, s => emailInfo(s.email).norm)).sort((a, b) => b - a)
const top10 = perLead.slice(0, Math.ceil(perLead.length * 0.1)).reduce((a, b) => a + b, 0)
for (const a of activities) {
  const e = emailInfo(a.email)
  if (!e || !known.has(e.norm)) fail(`activity for unknown lead ${a.email}`)
  if (!repEmails.has(a.rep_email)) fail(`activity by unknown rep ${a.rep_email}`)
  if (!['call', 'email', 'meeting', 'note', 'task'].includes(a.kind)) fail(`activity kind ${a.kind}`)
  const rr = reps.find(r => r.email === a.rep_email)
  if (rr.active !== 'true') fail(`activity by inactive rep ${a.rep_email}`)
}
const OPS = new Set(['eq', 'ne', 'in', 'not_in', 'lt', 'le', 'gt', 'ge', 'between', 'prefix', 'contains', 'exists', 'missing'])
function checkPred (p, path) {
  if (p.all || p.any) { const a = p.all || p.any; if (!Array.isArray(a)) fail(`${path}: not an array`); a.forEach((x, i) => checkPred(x, `${path}.${p.all ? 'all' : 'any'}[${i}]`)); return }
  if (p.not) return checkPred(p.not, `${path}.not`)
  if (!(p.field && OPS.has(p.op))) fail(`${path}: bad condition ${JSON.stringify(p)}`)
  if (!LEAD_HEADER.includes(p.field) && !p.field.startsWith('attributes.')) fail(`${path}: unknown field ${p.field}`)
  if (p.op === 'between' && !(Array.isArray(p.value) && p.value.length === 2)) fail(`${path}: between needs two values`)
  if (['in', 'not_in'].includes(p.op) && !Array.isArray(p.value)) fail(`${path}: in needs an array`)
  if (['exists', 'missing'].includes(p.op) && 'value' in p) fail(`${path}: ${p.op} takes no value`)
}
for (const r of rules) {
  checkPred(JSON.parse(r.predicate_json), `rule ${r.position} $`)
  if (!['live', 'shadow'].includes(r.mode)) fail(`rule ${r.position}: mode`)
  if (r.assign_to === 'team' && !teamNames.has(r.target)) fail(`rule ${r.position}: team ${r.target}`)
  if (r.assign_to === 'rep' && !repEmails.has(r.target)) fail(`rule ${r.position}: rep ${r.target}`)
  if (r.assign_to === 'queue' && r.target !== null) fail(`rule ${r.position}: queue with a target`)
}

// --- free_email_domains.txt ------------------------------------------------------
const freeText = readFileSync(join(here, 'free_email_domains.txt'), 'utf8')
const freeLines = freeText.split('\n'); if (freeLines.pop() !== '') fail('free list: no trailing newline')
const sortedOk = freeLines.every((d, i) => i === 0 || freeLines[i - 1] < d)
if (!sortedOk) fail('free list: not sorted/unique')
if (!freeLines.every(d => /^[a-z0-9.-]+$/.test(d))) fail('free list: non-ASCII or odd line')
for (const d of 'gmail.com googlemail.com yahoo.com outlook.com hotmail.com icloud.com proton.me protonmail.com gmx.de web.de mail.ru yandex.ru qq.com 163.com aol.com'.split(' ')) if (!FREE.has(d)) fail('free list lacks ' + d)

// --- report ----------------------------------------------------------------------------------
const size = readdirSync(S).reduce((a, f) => a + statSync(join(S, f)).size, 0)
const out = []
const say = s => out.push(s)
say(`free_email_domains.txt: ${freeLines.length} domains, sorted+unique ${sortedOk}`)
say(`teams.csv ${teams.length}, reps.csv ${reps.length} (inactive ${reps.filter(r => r.active === 'false').length}, not accepting ${reps.filter(r => r.accepting_leads === 'false').length}, away ${reps.filter(r => r.away_from).length}, capped ${reps.filter(r => r.max_open_leads).length}), accounts.csv ${accounts.length}`)
say(`company_profiles.csv ${profiles.length} rows, ${byDomain.size} domains (${both} from both providers, ${conflicts} with conflicting values, ${tiePriority} with equal priority); by provider ${JSON.stringify(countBy(profiles, p => p.provider))}`)
say(`leads_import.csv ${leads.length} rows`)
say(`  bad rows ${bad.length} (${pct(bad.length, leads.length)}) ${JSON.stringify(badKinds)}`)
say(`  phone-only ${phoneOnly.length} (${pct(phoneOnly.length, leads.length)})`)
say(`  valid e-mail ${withEmail.length}: free-mail ${freeMail.length} (${pct(freeMail.length, withEmail.length)} of them, ${pct(freeMail.length, leads.length)} of all rows), company domain ${corp.length}`)
say(`  company-domain leads: on a subdomain ${corp.filter(x => x.e.sub).length}, IDN ${corp.filter(x => x.e.idn).length}, at a named account ${accountLeads.length}, domain has a profile ${profiledLeads.length}`)
say(`  company-domain leads with empty industry ${emptyShare('industry')}, company_size ${emptyShare('company_size')}, annual_revenue ${emptyShare('annual_revenue')}, country ${emptyShare('country')}`)
say(`  duplicates of earlier rows in the file ${csvOnly.dups} (${pct(csvOnly.dups, leads.length)}); also of capture.jsonl ${capThenCsv.dups} (${pct(capThenCsv.dups, leads.length)}) ${JSON.stringify(capThenCsv.kinds)}`)
say(`  possible duplicates (not the same e-mail): same phone ${poss.byPhone}, same company + last name ${poss.byName}`)
say(`  phones ${withPhone.length} valid, ${intlPhone.length} typed with +CC/00, ${needHint.length} national-format numbers that parse only with the row's country as region (not with US); countries ${JSON.stringify(countBy(L.filter(x => !x.bad), x => x.r.country || '(empty)'))}`)
say(`  sources ${JSON.stringify(countBy(leads, r => r.source))}`)
say(`capture.jsonl ${capture.length} lines ${JSON.stringify(countBy(capture, c => c.shape))}`)
say(`  bad payloads (no contact) ${K.filter(x => x.bad).length}, other bad ${K.filter(x => x.bad && x.bad !== 'no_contact').length}, phone-only ${K.filter(x => x.phoneOnly).length}, free-mail ${K.filter(x => !x.bad && x.e && x.e.free).length}/${K.filter(x => !x.bad && x.e).length}`)
say(`  duplicates within capture ${capOnly.dups}; of leads_import.csv people ${csvThenCap.dups - capOnly.dups}; flat payloads with unknown keys ${capture.filter(c => c.unknownKeys.length).length}`)
say(`both files: ${L.length + K.length} rows, ${allSeq.dups} duplicate e-mails in any load order (${pct(allSeq.dups, L.length + K.length)}), distinct e-mail people ${allSeq.seen.size}`)
say(`signals.csv ${signals.length} for ${perLead.length} leads; top 10% of those leads have ${pct(top10, signals.length)} of signals; kinds ${JSON.stringify(countBy(signals, s => s.kind))}`)
say(`activities.csv ${activities.length} for ${new Set(activities.map(a => a.email)).size} leads; completed ${pct(activities.filter(a => a.completed === 'true').length, activities.length)}; kinds ${JSON.stringify(countBy(activities, a => a.kind))}`)
say(`source_spend.csv ${spend.length} rows, months ${[...new Set(spend.map(s => s.month))].join(' ')}`)
say(`routing_rules.csv ${rules.length} rules (${rules.filter(r => r.mode === 'shadow').length} shadow)`)
say(`data/sample total ${(size / 1024 / 1024).toFixed(2)} MiB`)
console.log(out.join('\n'))
if (problems.length) { console.error('PROBLEMS:\n  ' + problems.slice(0, 50).join('\n  ')); process.exit(1) }
console.log('no problems found')
