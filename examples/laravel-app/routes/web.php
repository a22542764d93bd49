<?php

// Routes of the example app.
return ['/' => 'home'];
