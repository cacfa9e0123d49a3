<?php
// A report that waits on a slow query.
usleep(1500000);
header('Content-Type: application/json');
echo json_encode(['report' => 'monthly', 'rows' => 1200]), "\n";
