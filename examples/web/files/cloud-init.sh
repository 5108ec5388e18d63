#!/bin/sh
# Serves a one-line page; $SITE_NAME is filled in by the template (str_replace).
mkdir -p /srv/www
echo "Hello from $SITE_NAME" > /srv/www/index.html
cd /srv/www && nohup python3 -m http.server 80 >/dev/null 2>&1 &
