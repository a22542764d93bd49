<?php

// Composer's autoloader stands here in a real app.
return true;
