<?php
// Calls a payment provider that hangs.
sleep(5);
echo "paid\n";
