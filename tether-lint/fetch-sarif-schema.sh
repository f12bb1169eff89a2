#!/usr/bin/env bash
# Fetches the official SARIF 2.1.0 JSON schema for SarifSchemaTest into tether-lint/target/sarif-schema/ and
# prints its path. The schema ships in the npm package @microsoft/jest-sarif; npm fetches it from the npm
# registry. Nothing is committed: the schema is the standard's, not ours. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir="$here/target/sarif-schema"
schema="$dir/sarif-2.1.0-rtm.5.json"
if [ ! -s "$schema" ]; then
  command -v npm >/dev/null 2>&1 || { echo "fetch-sarif-schema.sh: npm is needed (apt-get install npm)" >&2; exit 1; }
  mkdir -p "$dir"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null 2>&1) \
    || { echo "fetch-sarif-schema.sh: npm pack @microsoft/jest-sarif failed" >&2; exit 1; }
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/schemas/sarif-2.1.0-rtm.5.json
  mv "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$schema"
fi
echo "$schema"
