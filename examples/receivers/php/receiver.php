<?php
// A gradeflow callback receiver in PHP (as a Moodle plugin would receive it), verifying the Standard
// Webhooks signature by hand with hash_hmac (no Composer package needed), keeping each message once (by
// its webhook-id) and storing the result.
//
//   GRADEFLOW_WEBHOOK_SECRET=whsec_... STORE_DIR=./results php -S 127.0.0.1:8080 receiver.php
//
// Answers 204 for a message it verified (stored now, or already stored: gradeflow re-sends a message under
// the same webhook-id until it gets a 2xx), 400 for one that does not verify, 404 for other paths.

const TOLERANCE_SECONDS = 300;
const MAX_BODY = 1048576;

function answer(int $status): void
{
    http_response_code($status);
    exit;
}

/** Standard Webhooks: HMAC-SHA256 of "id.timestamp.body" with the base64 secret after "whsec_". */
function verified(string $secret, string $id, string $timestamp, string $signatures, string $body): bool
{
    if ($id === '' || !ctype_digit($timestamp) || abs(time() - (int) $timestamp) > TOLERANCE_SECONDS) {
        return false;
    }
    $key = base64_decode(str_starts_with($secret, 'whsec_') ? substr($secret, 6) : $secret, true);
    if ($key === false || $key === '') {
        return false;
    }
    $expected = base64_encode(hash_hmac('sha256', "$id.$timestamp.$body", $key, true));
    // One "v1,<base64>" per active secret of the sender, space-separated: any one may match.
    foreach (explode(' ', $signatures) as $versioned) {
        $parts = explode(',', $versioned, 2);
        if (count($parts) === 2 && $parts[0] === 'v1' && hash_equals($expected, $parts[1])) {
            return true;
        }
    }
    return false;
}

if ($_SERVER['REQUEST_METHOD'] !== 'POST' || parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) !== '/callback') {
    answer(404);
}
$body = file_get_contents('php://input', false, null, 0, MAX_BODY + 1);
if ($body === false || strlen($body) > MAX_BODY) {
    answer(413);
}
$id = $_SERVER['HTTP_WEBHOOK_ID'] ?? '';
$ok = verified(
    getenv('GRADEFLOW_WEBHOOK_SECRET') ?: '',
    $id,
    $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '',
    $_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '',
    $body,
);
$result = $ok ? json_decode($body, true) : null;
if (!is_array($result)) {
    error_log('refused ' . preg_replace('/[^A-Za-z0-9_.-]/', '_', $id));
    answer(400);
}
$dir = getenv('STORE_DIR') ?: 'results';
if (!is_dir($dir)) {
    mkdir($dir, 0700, true);
}
// gradeflow's ids are msg_<submission>_<attempt>; anything else is made file-name safe.
$path = $dir . '/' . preg_replace('/[^A-Za-z0-9_.-]/', '_', $id) . '.json';
// "x": created once; a re-sent message (same webhook-id) finds it there and is not stored again.
$f = @fopen($path, 'x');
if ($f !== false) {
    fwrite($f, json_encode(['webhook_id' => $id, 'body' => $result]));
    fclose($f);
}
answer(204);
