<?php

namespace App\Http\Controllers;

final class HomeController
{
    public function __invoke(): array
    {
        return ['status' => 'ok'];
    }
}
