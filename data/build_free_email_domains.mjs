// Builds data/free_email_domains.txt from the installed npm package
// `free-email-domains` (MIT; HubSpot's published free-domain list merged with
// two disposable-domain lists, see README.md).
//
//   cd data && npm install && node build_free_email_domains.mjs
//
// data/.npmrc sets ignore-scripts=true: the package's postinstall would
// re-download its sources and replace the pinned list with whatever is
// online that day. We want exactly the list shipped in the pinned version.
//
// Output: one lower-case ASCII domain per line (IDNs in their xn-- form),
// sorted (byte order), deduplicated, no comments, trailing newline. The
// Makefile pastes this file into the extension's install script inside a
// $list$...$list$ literal, so the strict check below also guarantees that no
// line can break out of it.

import { createRequire } from 'node:module'
import { readFileSync, writeFileSync } from 'node:fs'
import { domainToASCII } from 'node:url'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

const pkgJson = JSON.parse(readFileSync(require.resolve('free-email-domains/package.json'), 'utf8'))
const upstream = require('free-email-domains/domains.json')

// Obvious providers that must be present whatever the package holds.
const MUST_HAVE = [
  'gmail.com', 'googlemail.com', 'yahoo.com', 'outlook.com', 'hotmail.com',
  'icloud.com', 'proton.me', 'protonmail.com', 'gmx.de', 'web.de', 'mail.ru',
  'yandex.ru', 'qq.com', '163.com', 'aol.com',
  // free providers the package lacks (checked for 1.12.6)
  'tutanota.com'
]

const VALID = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

const out = new Set()
const rejected = []
const added = []

function take (raw, fromPackage) {
  const trimmed = String(raw).trim().toLowerCase().replace(/\.$/, '')
  if (!trimmed || trimmed.startsWith('#')) return
  const ascii = domainToASCII(trimmed) // IDN -> xn--, '' when invalid
  if (!ascii || !VALID.test(ascii) || !ascii.includes('.')) {
    rejected.push(raw)
    return
  }
  if (!fromPackage && !out.has(ascii)) added.push(ascii)
  out.add(ascii)
}

for (const d of upstream) take(d, true)
const fromPackage = out.size
for (const d of MUST_HAVE) take(d, false)

const sorted = [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
writeFileSync(join(here, 'free_email_domains.txt'), sorted.join('\n') + '\n')

console.log(`free-email-domains ${pkgJson.version} (${pkgJson.license}): ${upstream.length} entries, ${fromPackage} kept`)
console.log(`rejected ${rejected.length}${rejected.length ? ': ' + rejected.slice(0, 20).join(' ') : ''}`)
console.log(`appended ${added.length}${added.length ? ': ' + added.join(' ') : ''}`)
console.log(`wrote free_email_domains.txt: ${sorted.length} domains`)
