#!/usr/bin/env bash
# Before the first release the schema is one migration, regenerated from the models.
# Run after changing storage/models/*.py. (After release: add a new revision instead.)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f storage/migrations/versions/0001_initial_schema.py
.venv/bin/python - "$tmp" <<'PY'
import sys
from alembic import command
from storage.migrate import alembic_config
cfg = alembic_config(f"sqlite:///{sys.argv[1]}/empty.db")
command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
PY
sed -i 's/^Create Date: .*/Create Date: (regenerated)/' storage/migrations/versions/0001_initial_schema.py
rm -rf "$tmp"
echo "regenerated storage/migrations/versions/0001_initial_schema.py"
