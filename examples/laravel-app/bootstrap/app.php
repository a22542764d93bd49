<?php

// Bootstraps the example app.
return require __DIR__ . '/../vendor/autoload.php';
