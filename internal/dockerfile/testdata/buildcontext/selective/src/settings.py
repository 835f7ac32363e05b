import os
DEBUG = False
# want DV1047 "src/settings.py line 4, column 32 holds a PostgreSQL connection URL with a password .*`COPY src/ \\./src/` on line 6"
DATABASE_URL = "postgres://app:mi4hnZ0bjdQm870lp3@db.internal:5432/app"
