# dockvet-test rules=DV1026
# An image that is PHP-FPM exposes FPM's port: that is what it is for.
FROM php:8.4-fpm
# ok DV1026
EXPOSE 9000
CMD ["php-fpm"]
