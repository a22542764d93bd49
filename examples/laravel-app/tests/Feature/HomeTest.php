<?php

// Excluded from the package: tests never ship to Lambda.
