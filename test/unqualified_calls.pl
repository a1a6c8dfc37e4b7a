#!/usr/bin/perl
# Finds calls of pg_catalog functions that are not schema-qualified in
# extension scripts (spec §10: every name qualified, also inside SQL and
# PL/pgSQL bodies).  test/lint.sh runs it.
#
#   perl test/unqualified_calls.pl NAMES_FILE SCRIPT...         report, exit 1 if any
#   perl test/unqualified_calls.pl --fix NAMES_FILE SCRIPT...   insert "pg_catalog."
#
# NAMES_FILE holds the function names of pg_catalog, one a line (test/lint.sh
# reads them from pg_proc of the cluster it runs in).  A call is a name
# followed by "(" that is not itself qualified ("x.f(" is fine) and is not a
# type modifier after "::".  Comments and single-quoted literals are not
# code and are skipped; dollar-quoted function bodies are code and are
# checked.  Not checked: SQL built in string literals for EXECUTE.
use strict;
use warnings;

my $fix = 0;
if (@ARGV && $ARGV[0] eq '--fix') { $fix = 1; shift @ARGV; }
die "usage: $0 [--fix] NAMES_FILE SCRIPT...\n" unless @ARGV >= 2;
my $names_file = shift @ARGV;

open my $nf, '<', $names_file or die "$names_file: $!\n";
my %catalog = map { chomp; ($_ => 1) } grep { /\S/ } <$nf>;
close $nf;
die "$names_file: no function names (pg_proc not read?)\n" if keys %catalog < 1000;

# Names the grammar itself turns into pg_catalog calls, or type names with
# modifiers: never resolved through search_path.
my %syntax = map { $_ => 1 } qw(
    extract normalize trim
    numeric decimal varchar char bpchar bit varbit float
    timestamp timestamptz time timetz interval
);
# Special forms that are syntax only with their keyword inside, e.g.
# POSITION(a IN b), SUBSTRING(s FROM n FOR m), OVERLAY(s PLACING t FROM n);
# with plain commas they are ordinary calls.
my %keyword_form = (
    position  => qr/\bIN\b/i,
    substring => qr/\b(?:FROM|FOR|SIMILAR)\b/i,
    overlay   => qr/\bPLACING\b/i,
);

# Blank out comments and single-quoted literals (keeping offsets and line
# breaks); dollar quotes are dropped as delimiters, their bodies kept.
sub code_only {
    my ($text) = @_;
    my $out = $text;
    my $n = length $text;
    my $i = 0;
    my $blank = sub {
        my ($from, $to) = @_;
        my $s = substr($out, $from, $to - $from);
        $s =~ s/[^\n]/ /g;
        substr($out, $from, $to - $from) = $s;
    };
    while ($i < $n) {
        my $c = substr($text, $i, 1);
        my $c2 = substr($text, $i, 2);
        if ($c2 eq '--') {
            my $e = index($text, "\n", $i);
            $e = $n if $e < 0;
            $blank->($i, $e);
            $i = $e;
        } elsif ($c2 eq '/*') {
            my $e = index($text, '*/', $i + 2);
            $e = $e < 0 ? $n : $e + 2;
            $blank->($i, $e);
            $i = $e;
        } elsif ($c eq "'") {
            my $escaped = $i > 0 && substr($text, $i - 1, 1) =~ /[eE]/;
            my $j = $i + 1;
            while ($j < $n) {
                my $d = substr($text, $j, 1);
                if ($escaped && $d eq '\\') { $j += 2; next; }
                if ($d eq "'") {
                    if (substr($text, $j + 1, 1) eq "'") { $j += 2; next; }
                    last;
                }
                $j++;
            }
            $blank->($i, $j + 1);
            $i = $j + 1;
        } elsif ($c eq '"') {
            my $e = index($text, '"', $i + 1);
            $e = $e < 0 ? $n : $e + 1;
            $blank->($i, $e);
            $i = $e;
        } elsif (substr($text, $i) =~ /^(\$[A-Za-z_]*\$)/) {
            $blank->($i, $i + length $1);
            $i += length $1;
        } else {
            $i++;
        }
    }
    return $out;
}

# the text inside the parenthesis opening at $open
sub paren_content {
    my ($code, $open) = @_;
    my $depth = 0;
    for (my $k = $open; $k < length $code; $k++) {
        my $d = substr($code, $k, 1);
        $depth++ if $d eq '(';
        $depth-- if $d eq ')';
        return substr($code, $open + 1, $k - $open - 1) if $depth == 0;
    }
    return '';
}

my $found = 0;
for my $file (@ARGV) {
    open my $fh, '<', $file or die "$file: $!\n";
    my $text = do { local $/; <$fh> };
    close $fh;
    my $code = code_only($text);
    my @hits;
    while ($code =~ /(?<![\w.\$@":])([A-Za-z_][A-Za-z0-9_]*)(\s*)\(/g) {
        my ($name, $start, $open) = (lc $1, $-[1], $+[0] - 1);
        next unless $catalog{$name};
        next if $syntax{$name};
        next if $keyword_form{$name} && paren_content($code, $open) =~ $keyword_form{$name};
        # a type modifier after ::, e.g. x::numeric(10, 2)
        next if substr($code, 0, $start) =~ /::\s*$/;
        push @hits, [$start, $1];
    }
    for my $h (@hits) {
        my $line = 1 + (substr($text, 0, $h->[0]) =~ tr/\n//);
        print "$file:$line: unqualified call of pg_catalog function $h->[1]()\n" unless $fix;
    }
    $found += @hits;
    if ($fix && @hits) {
        for my $h (reverse @hits) {
            substr($text, $h->[0], 0) = 'pg_catalog.';
        }
        open my $out, '>', $file or die "$file: $!\n";
        print $out $text;
        close $out;
        print "$file: qualified " . scalar(@hits) . " calls\n";
    }
}
exit($fix ? 0 : ($found ? 1 : 0));
