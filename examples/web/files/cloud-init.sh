#!/bin/sh
# Serves a one-line page. The template fills in the site's name (str_replace)
# and the group each server's number (its index_var, as Heat does).
mkdir -p /srv/www
echo "Hello from $SITE_NAME, server %index%" > /srv/www/index.html
cd /srv/www && nohup python3 -m http.server 80 >/dev/null 2>&1 &
