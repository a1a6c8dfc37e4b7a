#!/bin/sh
# `make demo`, inside the throwaway cluster made by pg_virtualenv: loads the
# sample data through the real entry points and prints the main reports.
set -eu
cd "$(dirname "$0")/.."
psql -X -q -v ON_ERROR_STOP=1 -c 'DROP DATABASE IF EXISTS leadflow_demo' -c 'CREATE DATABASE leadflow_demo' postgres
psql -X -v ON_ERROR_STOP=1 -d leadflow_demo -f data/demo.sql
