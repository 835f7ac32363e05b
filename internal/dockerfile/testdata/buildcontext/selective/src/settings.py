import os
DEBUG = False
DATABASE_URL = "postgres://app:mi4hnZ0bjdQm870lp3@db.internal:5432/app"
