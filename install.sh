#!/bin/sh
# One-line VPS install. Not available yet: there is no published release binary to download.
# Until then, build from source: ./scripts/run.sh, or `bun run build` and copy dist/minivercel.
echo "minivercel install.sh: no release binary is published yet; see the README to run from source." >&2
exit 1
