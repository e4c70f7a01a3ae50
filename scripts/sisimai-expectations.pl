#!/usr/bin/perl
# Writes sisimai's verdict on every file of the bounce corpus to a JSON fixture, so the corpus test
# (test/bounce-corpus.test.ts) can compare the relay's bounce reader with it without sisimai
# installed (CI does not install it).
#
#   apt-get install libsisimai-perl
#   perl scripts/sisimai-expectations.pl [corpus dir] > test/fixtures/sisimai-perl-expected.json
#
# One entry per file: sisimai's records for it, in its order, each as
# { recipient, reason, softbounce (1 soft, 0 hard, -1 not a bounce), status, replycode, action,
#   diagnostic (first 300 characters) }. A file sisimai cannot read maps to [].
use strict;
use warnings;
use Sisimai;
use JSON::PP;
use Encode ();

my $dir = shift // '../shared/corpus/bounces';
opendir(my $dh, $dir) or die "$dir: $!";
my @files = sort grep { /\.eml$/ } readdir($dh);
closedir $dh;

my $out = { _source => sprintf('sisimai %s (Debian libsisimai-perl) via scripts/sisimai-expectations.pl, options delivered => 1, vacation => 1', Sisimai->version) };
for my $f (@files) {
    my $records = eval { Sisimai->make("$dir/$f", delivered => 1, vacation => 1) } // [];
    my @rows;
    for my $e (@$records) {
        my $diag = $e->diagnosticcode // '';
        # Sisimai returns bytes or characters depending on the message; the fixture is UTF-8 text.
        $diag = Encode::decode('UTF-8', $diag, Encode::FB_DEFAULT) unless utf8::is_utf8($diag);
        $diag =~ s/\s+/ /g;
        push @rows, {
            recipient  => $e->recipient ? $e->recipient->address : '',
            reason     => $e->reason // '',
            softbounce => 0 + ($e->softbounce // -1),
            status     => $e->deliverystatus // '',
            replycode  => '' . ($e->replycode // ''),
            action     => $e->action // '',
            diagnostic => substr($diag, 0, 300),
        };
    }
    $out->{$f} = \@rows;
}
# One line per file: diffs of a regenerated fixture show which files changed.
my $json = JSON::PP->new->canonical->utf8;
print "{\n", join(",\n", map { $json->encode($_) . ':' . $json->encode($out->{$_}) } sort keys %$out), "\n}\n";
