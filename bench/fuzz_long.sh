#!/bin/sh
# The fuzzers of tests/fuzz/ with many more examples than CI gives them (issue 11).
#
#   bench/fuzz_long.sh [EXAMPLES [API_CASES]]     defaults 2000 and 30 (about 5 min on 2 cores)
#
# Parsers (journal, bundle, phs-bus frames, scenario files, live vote/post messages,
# archive envelopes and receipts, participant lists) get EXAMPLES each (CI: 60); the API
# schema fuzzer gets API_CASES cases per route and mode (CI: 12), each sent as all eight
# roles, so every case there is eight requests to the app. Hypothesis keeps no example database,
# so every run draws afresh; a failure prints the falsifying example. Results go to
# bench/RESULTS.md, "Fuzzing".
set -u
cd "$(dirname "$0")/.."
EXAMPLES="${1:-2000}"
API_EXAMPLES="${2:-30}"
PY=.venv/bin/pytest
echo "fuzz_long: $EXAMPLES examples a parser, $API_EXAMPLES cases a route and mode ($(date -u +%FT%TZ), $(nproc) cores)"
start=$(date +%s)
# Both halves run whatever the first finds; the exit status says whether either failed.
PHS_FUZZ_EXAMPLES="$EXAMPLES" $PY tests/fuzz/test_parsers_fuzz.py -q -p no:cacheprovider --timeout=3600 \
    --hypothesis-show-statistics
parsers=$?
mid=$(date +%s)
PHS_FUZZ_EXAMPLES="$API_EXAMPLES" $PY tests/fuzz/test_api_schema_fuzz.py -q -p no:cacheprovider --timeout=3600
api=$?
end=$(date +%s)
echo "fuzz_long: parsers $((mid - start)) s (exit $parsers), API schema $((end - mid)) s (exit $api)"
[ "$parsers" -eq 0 ] && [ "$api" -eq 0 ]
