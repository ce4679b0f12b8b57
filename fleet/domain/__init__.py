"""Pure domain rules: no FastAPI, no Tortoise, no clock. `today`/`now` and the holiday calendar come in
as parameters; services load, call a rule, save."""
