<?php

// A Laravel-shaped HTTP entry point: answers every request with a small JSON document.
require __DIR__ . '/../vendor/autoload.php';

header('Content-Type: application/json');
echo json_encode([
    'app' => getenv('APP_NAME') ?: 'laravel',
    'path' => parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH),
]);
