#!/bin/sh
# examples/prometheus: the rules pass `promtool check rules`, and their unit
# tests (netacct-rules.test.yml: each alert fires when it must, with its
# labels and text, and not before or for the wrong series; the recording
# rules' exact rates) pass `promtool test rules`.
#   rules.sh SOURCE_DIR
. "$(dirname "$0")/lib.sh"
dir=$1/examples/prometheus
need promtool prometheus
out=$(promtool check rules "$dir/netacct-rules.yml" 2>&1) || fail "promtool check rules: $out"
case $out in *"SUCCESS: 10 rules found"*) ;; *) fail "expected 10 rules: $out" ;; esac
out=$(cd "$dir" && promtool test rules netacct-rules.test.yml 2>&1) || fail "promtool test rules: $out"
echo "ok: rules checked and tested"
