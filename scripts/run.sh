#!/usr/bin/env bash
# Fresh clone → running kpitrack on SQLite with the seed plans and demo users: bash scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh ""
# Production-like by default: real error pages, static files from WhiteNoise (DEBUG=True bash scripts/run.sh for
# Django's debug pages). With DEBUG off the settings refuse the development key: keep one random key per clone.
export DEBUG="${DEBUG:-False}"
if [[ -z "${SECRET_KEY:-}" ]]; then
  if [[ ! -s .secret_key ]]; then
    (umask 077 && .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(50))" > .secret_key)
  fi
  SECRET_KEY="$(cat .secret_key)"
  export SECRET_KEY
fi
port="${PORT:-8000}"
.venv/bin/python manage.py migrate --no-input -v 0
.venv/bin/python manage.py collectstatic --no-input -v 0
.venv/bin/python manage.py load_seed
.venv/bin/python manage.py load_demo_users
cat <<MSG

kpitrack: http://127.0.0.1:${port}/   (管理サイト: http://127.0.0.1:${port}/admin/)
デモ用ログイン（ユーザー名 / パスワード）:
  hq              / kpitrack-demo   本部（全支部を閲覧）
  tochigi         / kpitrack-demo   栃木支部の担当者
  kagoshima       / kpitrack-demo   鹿児島支部の担当者
  tokyo           / kpitrack-demo   東京支部の担当者
  gifu            / kpitrack-demo   岐阜支部の担当者
  tochigi-manager / kpitrack-demo   栃木支部の管理者（月次の承認）
  admin           / kpitrack-admin  管理者（管理サイト）
Ctrl+C で終了します。
MSG
exec .venv/bin/python manage.py runserver "127.0.0.1:${port}"
