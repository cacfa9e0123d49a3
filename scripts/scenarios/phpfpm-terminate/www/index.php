<?php
header('Content-Type: application/json');
echo json_encode(['page' => 'home']), "\n";
