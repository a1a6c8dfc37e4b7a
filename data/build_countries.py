#!/usr/bin/env python3
"""Writes data/countries.tsv and data/subdivisions.tsv from Debian's iso-codes.

    python3 data/build_countries.py        # needs the iso-codes package

Reads /usr/share/iso-codes/json/iso_3166-1.json and iso_3166-2.json and the
translations /usr/share/locale/<lang>/LC_MESSAGES/iso_3166-1.mo and
iso_3166-2.mo of the languages below.  Python's standard library only.  The
output is sorted in byte order and depends only on the installed iso-codes
version (printed in the file header): running it again gives the same bytes.

countries.tsv:    key <TAB> alpha-2
subdivisions.tsv: alpha-2 <TAB> key <TAB> subdivision code (no country prefix)

A key is a name as src/country.c compares it (place_key below, the same
steps in C): ASCII and Latin-1 capitals lowered, "." dropped, "-", "_", ",",
"(", ")", "/" and runs of white space made one space, a leading "the "
dropped.  Every name is also keyed without its accents.  A key that two
countries (or two subdivisions of one country) share in different languages
is ambiguous and left out; codes and English names win over translations.
"""
import gettext
import json
import os
import subprocess
import sys
import unicodedata

ISO = '/usr/share/iso-codes/json'
LOCALE = '/usr/share/locale'
HERE = os.path.dirname(os.path.abspath(__file__))

# languages whose country names people type: the EU's, the big markets'
LANGS = ['de', 'fr', 'es', 'it', 'pt', 'pt_BR', 'nl', 'sv', 'da', 'nb', 'nn', 'fi', 'is',
         'pl', 'cs', 'sk', 'hu', 'ro', 'bg', 'el', 'hr', 'sl', 'sr', 'et', 'lv', 'lt',
         'ga', 'mt', 'ca', 'eu', 'gl', 'tr', 'ru', 'uk', 'ja', 'zh_CN', 'zh_TW', 'ko',
         'ar', 'he', 'hi', 'id', 'ms', 'th', 'vi', 'en']

# subdivisions: their ISO names are mostly local already; English and a few
# big languages add the exonyms (Bavaria, Bavière), for top-level ones only
SUB_LANGS = ['en', 'de', 'fr', 'es', 'it', 'pt', 'nl', 'pl']

# what people write that no ISO name is
COUNTRY_ALIASES = {
    'UK': 'GB', 'U.K.': 'GB', 'Great Britain': 'GB', 'Britain': 'GB', 'England': 'GB',
    'Scotland': 'GB', 'Wales': 'GB', 'Northern Ireland': 'GB', 'United Kingdom of Great Britain': 'GB',
    'USA': 'US', 'U.S.A.': 'US', 'U.S.': 'US', 'United States of America': 'US', 'America': 'US',
    'Holland': 'NL', 'The Netherlands': 'NL', 'South Korea': 'KR', 'Korea': 'KR', 'Republic of Korea': 'KR',
    'North Korea': 'KP', 'Russia': 'RU', 'Czech Republic': 'CZ', 'Ivory Coast': 'CI', 'Vietnam': 'VN',
    'Iran': 'IR', 'Syria': 'SY', 'Laos': 'LA', 'Bolivia': 'BO', 'Venezuela': 'VE', 'Tanzania': 'TZ',
    'Moldova': 'MD', 'Taiwan': 'TW', 'Macedonia': 'MK', 'UAE': 'AE', 'U.A.E.': 'AE', 'Emirates': 'AE',
    'KSA': 'SA', 'Turkey': 'TR', 'Swaziland': 'SZ', 'Burma': 'MM', 'Cape Verde': 'CV',
    'Vatican': 'VA', 'Palestine': 'PS', 'Micronesia': 'FM', 'Brunei': 'BN', 'Hong Kong SAR': 'HK',
    'Macau': 'MO', 'PRC': 'CN', 'Mainland China': 'CN', 'Deutschland': 'DE', 'BRD': 'DE',
    'Schweiz': 'CH', 'Suisse': 'CH', 'Svizzera': 'CH', 'Österreich': 'AT', 'España': 'ES',
    'Brasil': 'BR', 'México': 'MX', 'Россия': 'RU', 'Suomi': 'FI', 'Sverige': 'SE', 'Norge': 'NO',
    'Danmark': 'DK', 'Polska': 'PL', 'Italia': 'IT', 'Nederland': 'NL', 'België': 'BE', 'Belgique': 'BE', 'Bharat': 'IN', 'Nippon': 'JP', 'Nihon': 'JP',
}

# English names of subdivisions the ISO names give only locally
SUBDIVISION_ALIASES = {
    ('DE', 'Bavaria'): 'BY', ('DE', 'Lower Saxony'): 'NI', ('DE', 'North Rhine-Westphalia'): 'NW',
    ('DE', 'Rhineland-Palatinate'): 'RP', ('DE', 'Saxony'): 'SN', ('DE', 'Saxony-Anhalt'): 'ST',
    ('DE', 'Thuringia'): 'TH', ('DE', 'Hesse'): 'HE', ('DE', 'Mecklenburg-Western Pomerania'): 'MV',
    ('DE', 'Cologne'): None, ('CH', 'Zurich'): 'ZH', ('CH', 'Geneva'): 'GE',
    ('ES', 'Catalonia'): 'CT', ('ES', 'Cataluña'): 'CT', ('ES', 'Catalunya'): 'CT', ('ES', 'Andalusia'): 'AN', ('IT', 'Lombardy'): '25', ('IT', 'Tuscany'): '52',
    ('IT', 'Sicily'): '82', ('IT', 'Sardinia'): '88', ('IT', 'Piedmont'): '21',
    ('US', 'Washington DC'): 'DC', ('US', 'Washington D.C.'): 'DC', ('US', 'D.C.'): 'DC',
}


def place_key(s):
    """The comparison key of a place name; src/country.c place_key() is the same."""
    out = []
    for ch in s:
        o = ord(ch)
        if 'A' <= ch <= 'Z':
            ch = chr(o + 32)
        elif 0xC0 <= o <= 0xDE and o != 0xD7:
            ch = chr(o + 32)
        if ch == '.':
            continue
        if ch in '-_,()/' or ch in ' \t\n\r\f\v':
            ch = ' '
        out.append(ch)
    key = ' '.join(''.join(out).split(' '))
    key = ' '.join(w for w in key.split(' ') if w)
    if key.startswith('the '):
        key = key[4:]
    return key


def unaccented(s):
    return ''.join(c for c in unicodedata.normalize('NFKD', s) if not unicodedata.combining(c))


def variants(name):
    """The keys of a name: as written, lower case, without accents."""
    keys = set()
    for form in (name, name.lower(), unaccented(name), unaccented(name).lower()):
        k = place_key(form)
        if k:
            keys.add(k)
    return keys


def translations(domain, lang):
    path = os.path.join(LOCALE, lang, 'LC_MESSAGES', domain + '.mo')
    if not os.path.exists(path):
        return None
    with open(path, 'rb') as f:
        return gettext.GNUTranslations(f)


class KeyMap:
    """key -> value; the first rank to give a key wins, a later tie of ranks makes it ambiguous."""

    def __init__(self):
        self.best = {}

    def add(self, key, value, rank):
        if '"' in key or '\\' in key:
            return      # the C table is a string literal: such names are left out
        cur = self.best.get(key)
        if cur is None or rank < cur[1]:
            self.best[key] = (value, rank)
        elif rank == cur[1] and cur[0] != value:
            self.best[key] = (None, rank)   # ambiguous at this rank

    def items(self):
        return sorted(((k, v) for k, (v, _) in self.best.items() if v is not None),
                      key=lambda kv: kv[0].encode('utf-8'))


def iso_codes_version():
    try:
        return subprocess.run(['dpkg-query', '-W', '-f=${Version}', 'iso-codes'],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def main():
    countries = json.load(open(os.path.join(ISO, 'iso_3166-1.json')))['3166-1']
    subdivisions = json.load(open(os.path.join(ISO, 'iso_3166-2.json')))['3166-2']

    cmap = KeyMap()
    for c in countries:
        a2 = c['alpha_2']
        cmap.add(place_key(a2), a2, 0)
        cmap.add(place_key(c['alpha_3']), a2, 1)
        for field in ('name', 'common_name', 'official_name'):
            if field in c:
                for k in variants(c[field]):
                    cmap.add(k, a2, 2)
    for alias, a2 in COUNTRY_ALIASES.items():
        for k in variants(alias):
            cmap.add(k, a2, 3)
    for lang in LANGS:
        t = translations('iso_3166-1', lang)
        if t is None:
            continue
        for c in countries:
            for field in ('name', 'common_name', 'official_name'):
                if field in c:
                    tr = t.gettext(c[field])
                    if tr != c[field]:
                        for k in variants(tr):
                            cmap.add(k, c['alpha_2'], 4)

    smap = {}
    for s in subdivisions:
        a2, code = s['code'].split('-', 1)
        m = smap.setdefault(a2, KeyMap())
        top = 0 if 'parent' not in s else 1
        m.add(place_key(code), code, 0)
        m.add(place_key(s['code']), code, 0)
        for k in variants(s['name']):
            m.add(k, code, 2 + top)
    for (a2, alias), code in SUBDIVISION_ALIASES.items():
        if code is not None:
            for k in variants(alias):
                smap.setdefault(a2, KeyMap()).add(k, code, 4)
    for lang in SUB_LANGS:
        t = translations('iso_3166-2', lang)
        if t is None:
            continue
        for s in subdivisions:
            tr = t.gettext(s['name'])
            if tr != s['name'] and 'parent' not in s:
                a2, code = s['code'].split('-', 1)
                for k in variants(tr):
                    smap[a2].add(k, code, 5 + (0 if 'parent' not in s else 1))

    version = iso_codes_version()
    for key, _ in cmap.items():
        assert '\t' not in key and '\n' not in key and '"' not in key and '\\' not in key, key
    with open(os.path.join(HERE, 'countries.tsv'), 'w', encoding='utf-8', newline='\n') as f:
        f.write('# country names -> ISO 3166-1 alpha-2, from iso-codes %s (data/build_countries.py)\n' % version)
        for key, a2 in cmap.items():
            f.write('%s\t%s\n' % (key, a2))
    rows = []
    for a2 in sorted(smap):
        for key, code in smap[a2].items():
            assert '\t' not in key and '"' not in key and '\\' not in key, key
            rows.append((a2, key, code))
    rows.sort(key=lambda r: (r[0] + '\t' + r[1]).encode('utf-8'))
    with open(os.path.join(HERE, 'subdivisions.tsv'), 'w', encoding='utf-8', newline='\n') as f:
        f.write('# subdivision names -> ISO 3166-2 code without the country, from iso-codes %s (data/build_countries.py)\n' % version)
        for a2, key, code in rows:
            f.write('%s\t%s\t%s\n' % (a2, key, code))
    print('countries.tsv: %d keys, subdivisions.tsv: %d keys (iso-codes %s)'
          % (len(cmap.items()), len(rows), version), file=sys.stderr)


if __name__ == '__main__':
    main()
