<?php
// A lane on Antom's official PHP SDK (antom/global-open-sdk-php) paying
// through paycode: the whole in-store payment-code flow, every answer's
// signature verified by the SDK. See docs/clients.md, "PHP SDK".
//
//   php lane.php --sdk DIR --gateway https://127.0.0.1:8443 \
//       --client-id SANDBOX_5YEXAMPLE00001 \
//       --merchant-key merchant.key --paycode-pub paycode.pub \
//       [--record DIR] [--run ID] [--prefix 281001] [--amount 5600] \
//       [--notify 127.0.0.1:8447]
//
// --sdk is the SDK's source tree (a git checkout) or a Composer project
// that requires it. --record writes the exact bodies the SDK sent; --run
// prefixes the paymentRequestIds (default php-<epoch ms>); --prefix is the
// test codes' routing prefix; --amount the pays' HKD minor units.
// --notify also serves the pays' paymentNotifyUrl on that address (a
// child `php -S` running this file) and waits for paycode's notification
// of each payment, verified with the SDK's SignatureTool; paycode must
// then allow it (notify: {allowHTTP: true, allow: [127.0.0.1]}).
// Exit status 0 only if every call succeeded as the SDK sees it.

use Client\DefaultAlipayClient;
use Model\Amount;
use Model\Env;
use Model\InStorePaymentScenario;
use Model\Merchant;
use Model\Order;
use Model\PaymentFactor;
use Model\PaymentMethod;
use Model\ProductCodeType;
use Model\Store;
use Request\pay\AlipayInquiryRefundRequest;
use Request\pay\AlipayPayCancelRequest;
use Request\pay\AlipayPayQueryRequest;
use Request\pay\AlipayPayRequest;
use Request\pay\AlipayRefundRequest;

if (PHP_SAPI === 'cli-server') { // the notification receiver of --notify
    receiveNotification();
    exit;
}

$opt = getopt('', ['sdk:', 'gateway:', 'client-id:', 'merchant-key:', 'paycode-pub:', 'record:', 'prefix:', 'amount:', 'run:',
    'notify:']);
foreach (['sdk', 'gateway', 'client-id', 'merchant-key', 'paycode-pub'] as $k) {
    if (!isset($opt[$k])) {
        fwrite(STDERR, "missing --$k (see the header of " . basename(__FILE__) . ")\n");
        exit(2);
    }
}
loadSDK($opt['sdk']);

// The SDK wraps the merchant key in "BEGIN RSA PRIVATE KEY" armour itself:
// give it bare base64 (paycode keys' merchant.key, PKCS#8, or the body of
// merchant.pkcs1.pem), never a PEM file as it is.
$merchantKey = bareBase64(file_get_contents($opt['merchant-key']));
$paycodePub = bareBase64(file_get_contents($opt['paycode-pub']));
$clientId = $opt['client-id'];
$prefix = $opt['prefix'] ?? '281001';
$amount = $opt['amount'] ?? '5600';
$record = $opt['record'] ?? null;
$notifyURL = isset($opt['notify']) ? startReceiver($opt['notify'], $opt['sdk'], $opt['paycode-pub']) : null;
if ($record !== null && !is_dir($record)) {
    mkdir($record, 0755, true);
}

/**
 * The SDK's own client and transport; it only keeps what went over the
 * wire, so the script can tell a verified answer from one the SDK let
 * through unverified (it verifies only when both the signature and
 * response-time headers arrive).
 */
class WatchedClient extends DefaultAlipayClient
{
    public $sent;
    public $rsp;

    protected function sendRequest($requestUrl, $httpMethod, $headers, $reqBody)
    {
        $this->sent = ['url' => $requestUrl, 'headers' => $headers, 'body' => $reqBody];
        $this->rsp = parent::sendRequest($requestUrl, $httpMethod, $headers, $reqBody);
        return $this->rsp;
    }
}

$client = new WatchedClient($opt['gateway'], $merchantKey, $paycodePub, $clientId);
$failures = 0;
$run = $opt['run'] ?? 'php-' . (int)(microtime(true) * 1000); // paymentRequestId prefix

// call runs one request through the SDK and checks the answer: $want maps
// a dotted field of the answer to the value it must have.
function call($name, $request, array $want)
{
    global $client, $failures, $record;
    try {
        $rsp = $client->execute($request);
    } catch (\Throwable $e) {
        $failures++;
        printf("FAIL %-17s the SDK threw: %s\n", $name, $e->getMessage());
        if ($e->getMessage() === 'HttpRpcResult is null.') {
            // The SDK drops curl's error: no connection, a certificate not
            // naming the URL's host (curl checks the name, not the chain),
            // or an answer other than HTTP 200.
            echo "     no HTTP 200 answer: check the URL, the port, and that the certificate names the host\n";
        }
        return null;
    }
    if ($record !== null) {
        file_put_contents("$record/$name.json", $client->sent['body']);
    }
    $verified = $client->rsp->getRspSign() != '' && $client->rsp->getRspTime() != '';
    $bad = $verified ? [] : ['the answer was not verified (no signature or response-time header)'];
    foreach ($want as $path => $value) {
        $got = field($rsp, $path);
        if ($got !== $value) {
            $bad[] = "$path is " . json_encode($got) . ", want " . json_encode($value);
        }
    }
    $r = $rsp->result;
    $status = field($rsp, 'paymentStatus') ?? field($rsp, 'refundStatus');
    printf("%s %-17s %s %s %s%s%s\n", $bad ? 'FAIL' : 'ok  ', $name, parse_url($client->sent['url'], PHP_URL_PATH),
        $r->resultStatus, $r->resultCode, $status === null ? '' : " ($status)", $verified ? ', signature verified' : '');
    foreach ($bad as $b) {
        printf("     %s\n", $b);
    }
    $failures += $bad ? 1 : 0;
    return $rsp;
}

function field($obj, $path)
{
    foreach (explode('.', $path) as $k) {
        if (!is_object($obj) || !property_exists($obj, $k)) {
            return null;
        }
        $obj = $obj->$k;
    }
    return $obj;
}

function amount($currency, $value)
{
    $a = new Amount();
    $a->setCurrency($currency);
    $a->setValue($value);
    return $a;
}

// payRequest builds a user-presented-code pay from the SDK's generic
// AlipayPayRequest. (The SDK's UserPresentedCodePaymentRequest helper
// does not run: it names InStorePaymentScenario::PaymentCode, a constant
// the SDK does not define.) Enums go in as the SDK's string constants;
// its enum objects would be serialised as {"value": …}.
function payRequest($id, $code, $value, $description = '2 x coffee', $storeName = 'Demo Cafe Central')
{
    $store = new Store();
    $store->setReferenceStoreId('S01');
    $store->setStoreName($storeName);
    $store->setStoreMCC('5814');
    $merchant = new Merchant();
    $merchant->setReferenceMerchantId('M0001');
    $merchant->setMerchantMCC('5814');
    $merchant->setMerchantName('Demo Cafe');
    $merchant->setStore($store);
    $env = new Env();
    $env->setStoreTerminalId('LANE-07');
    $env->setStoreTerminalRequestTime(date(DATE_ISO8601)); // the SDK's own time format: +0000
    $order = new Order();
    $order->setReferenceOrderId('ORD-' . $id);
    $order->setOrderDescription($description);
    $order->setOrderAmount(amount('HKD', $value));
    $order->setMerchant($merchant);
    $order->setEnv($env);
    $method = new PaymentMethod();
    $method->setPaymentMethodType('CONNECT_WALLET');
    $method->setPaymentMethodId($code);
    $factor = new PaymentFactor();
    $factor->setInStorePaymentScenario(InStorePaymentScenario::PAYMENT_CODE);

    $req = new AlipayPayRequest();
    $req->setProductCode(ProductCodeType::IN_STORE_PAYMENT);
    $req->setPaymentRequestId($id);
    $req->setOrder($order);
    $req->setPaymentAmount(amount('HKD', $value));
    $req->setPaymentMethod($method);
    $req->setPaymentFactor($factor);
    global $notifyURL;
    if ($notifyURL !== null) {
        $req->setPaymentNotifyUrl($notifyURL);
    }
    return $req;
}

// testCode is a fresh simulated-wallet test code: prefix, random digits,
// and the last two digits that choose the wallet's answer.
function testCode($prefix, $last2)
{
    $mid = '';
    for ($i = strlen($prefix) + 2; $i < 24; $i++) {
        $mid .= random_int(0, 9);
    }
    return $prefix . $mid . $last2;
}

function inquiry($id)
{
    $q = new AlipayPayQueryRequest();
    $q->setPaymentRequestId($id);
    return $q;
}

printf("gateway %s, client id %s, run %s\n", $opt['gateway'], $clientId, $run);

// 1. A code the wallet approves at once (…00): pay, inquire, refund part,
//    inquire the refund, and a retry of the same pay (its stored answer).
$payA = payRequest("$run-a", testCode($prefix, '00'), $amount);
$a = call('pay', $payA, ['result.resultStatus' => 'S', 'result.resultCode' => 'SUCCESS']);
call('inquiryPayment', inquiry("$run-a"), ['result.resultStatus' => 'S', 'paymentStatus' => 'SUCCESS',
    'paymentRequestId' => "$run-a"]);
call('pay-retry', $payA, ['result.resultStatus' => 'S', 'paymentId' => field($a, 'paymentId')]);
$refund = new AlipayRefundRequest();
$refund->setRefundRequestId("$run-r1");
$refund->setPaymentId(field($a, 'paymentId'));
$refund->setRefundAmount(amount('HKD', '1000'));
call('refund', $refund, ['result.resultStatus' => 'S', 'refundAmount.value' => '1000']);
$ir = new AlipayInquiryRefundRequest();
$ir->setRefundRequestId("$run-r1");
call('inquiryRefund', $ir, ['result.resultStatus' => 'S', 'refundStatus' => 'SUCCESS']);

// 2. A code whose user confirms later (…80): the pay answers U
//    PAYMENT_IN_PROCESS; the lane inquires until the result is final.
call('pay-in-process', payRequest("$run-u", testCode($prefix, '80'), $amount),
    ['result.resultStatus' => 'U', 'result.resultCode' => 'PAYMENT_IN_PROCESS']);
$status = null;
for ($i = 0; $i < 20 && $status !== 'SUCCESS' && $status !== 'FAIL'; $i++) {
    sleep(1); // the lane's polling interval
    $rsp = call("inquiry-u-$i", inquiry("$run-u"), ['result.resultStatus' => 'S']);
    if ($rsp === null) {
        break;
    }
    $status = field($rsp, 'paymentStatus');
}
if ($status !== 'SUCCESS') {
    $failures++;
    printf("FAIL the in-process payment ended %s, want SUCCESS\n", json_encode($status));
}

// 3. A paid payment the lane cancels (a voided sale): cancel, then inquire.
//    Its text has what PHP's json_encode escapes: "\/" and "\u00e9".
call('pay-to-cancel', payRequest("$run-c", testCode($prefix, '00'), $amount, '2 × café', 'Demo Cafe / Central'),
    ['result.resultStatus' => 'S']);
$cancel = new AlipayPayCancelRequest();
$cancel->setPaymentRequestId("$run-c");
call('cancel', $cancel, ['result.resultStatus' => 'S', 'paymentRequestId' => "$run-c"]);
call('inquiry-cancelled', inquiry("$run-c"), ['result.resultStatus' => 'S', 'paymentStatus' => 'CANCELLED']);

// 4. Verification is really on: with a wrong "Alipay public key" the SDK
//    must refuse paycode's answer.
$other = openssl_pkey_get_details(openssl_pkey_new(['private_key_bits' => 2048]))['key'];
$wrong = new DefaultAlipayClient($opt['gateway'], $merchantKey, bareBase64($other), $clientId);
try {
    $wrong->execute(inquiry("$run-a"));
    $failures++;
    echo "FAIL wrong-key         the SDK accepted an answer under another public key\n";
} catch (\Exception $e) {
    $ok = $e->getMessage() === 'Response signature verify fail.';
    $failures += $ok ? 0 : 1;
    printf("%s %-17s the SDK threw: %s\n", $ok ? 'ok  ' : 'FAIL', 'wrong-key', $e->getMessage());
}

// 5. With --notify: paycode's notification of each payment, its signature
//    verified with the SDK (which has no receiver of its own: a lane
//    verifies with SignatureTool, as the receiver below does).
if ($notifyURL !== null) {
    $failures += awaitNotifications(["$run-a" => 'SUCCESS', "$run-u" => 'SUCCESS', "$run-c" => null]);
    proc_terminate($receiver);
    unlink($notifyLog);
}

echo $failures === 0 ? "all calls succeeded\n" : "$failures call(s) failed\n";
exit($failures === 0 ? 0 : 1);

function bareBase64($s)
{
    return preg_replace('/-----[^-]+-----|\s+/', '', $s);
}

// loadSDK loads the SDK from a Composer project (vendor/autoload.php) or
// from its source tree by composer.json's PSR-4 map (its init.php does not
// load: it requires request classes before the interfaces they implement).
function loadSDK($dir)
{
    if (is_file("$dir/vendor/autoload.php")) {
        require "$dir/vendor/autoload.php";
        return;
    }
    $psr4 = json_decode(file_get_contents("$dir/composer.json"), true)['autoload']['psr-4'];
    spl_autoload_register(function ($class) use ($dir, $psr4) {
        foreach ($psr4 as $ns => $sub) {
            if (strncmp($class, $ns, strlen($ns)) === 0) {
                $f = "$dir/$sub" . str_replace('\\', '/', substr($class, strlen($ns))) . '.php';
                if (is_file($f)) {
                    require $f;
                }
                return;
            }
        }
    });
}

// startReceiver serves this file with PHP's built-in server on addr as the
// notification receiver; it returns the notify URL.
function startReceiver($addr, $sdk, $pubFile)
{
    global $receiver, $notifyLog;
    $notifyLog = tempnam(sys_get_temp_dir(), 'lane-notify-');
    $env = getenv();
    $env['LANE_SDK'] = realpath($sdk);
    $env['LANE_PAYCODE_PUB'] = realpath($pubFile);
    $env['LANE_NOTIFY_LOG'] = $notifyLog;
    $receiver = proc_open([PHP_BINARY, '-S', $addr, __FILE__], [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
        $pipes, null, $env);
    [$host, $port] = explode(':', $addr);
    for ($i = 0; $i < 50; $i++) { // until it listens, at most 5 s
        $c = @fsockopen($host, (int)$port, $errno, $errstr, 0.1);
        if ($c) {
            fclose($c);
            return "http://$addr/notify/pay";
        }
        usleep(100000);
    }
    fwrite(STDERR, "the notification receiver did not start on $addr\n");
    exit(2);
}

// receiveNotification verifies one notification as a lane would, logs it
// and acknowledges it (spec §2.6's answer) only if its signature holds.
function receiveNotification()
{
    loadSDK(getenv('LANE_SDK'));
    $body = file_get_contents('php://input');
    $h = array_change_key_case(getallheaders(), CASE_LOWER);
    $sig = $h['signature'] ?? '';
    $sig = ($i = strpos($sig, 'signature=')) === false ? '' : substr($sig, $i + strlen('signature='));
    $verified = $sig !== '' && \Client\SignatureTool::verify('POST', parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH),
        $h['client-id'] ?? '', $h['request-time'] ?? '', $body, $sig,
        bareBase64(file_get_contents(getenv('LANE_PAYCODE_PUB')))) === 1;
    $n = json_decode($body);
    file_put_contents(getenv('LANE_NOTIFY_LOG'), json_encode([
        'verified' => $verified,
        'clientId' => $h['client-id'] ?? '',
        'notifyType' => $n->notifyType ?? null,
        'paymentRequestId' => $n->paymentRequestId ?? null,
        'resultStatus' => $n->result->resultStatus ?? null,
        'resultCode' => $n->result->resultCode ?? null,
    ]) . "\n", FILE_APPEND | LOCK_EX);
    header('Content-Type: application/json; charset=UTF-8');
    if (!$verified) {
        echo '{"result":{"resultCode":"INVALID_SIGNATURE","resultStatus":"F","resultMessage":"signature"}}';
        return;
    }
    echo '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}';
}

// awaitNotifications waits up to 30 s until every payment of $want has a
// verified notification (with that result code, unless null) and returns
// the number of failures; every notification must be verified.
function awaitNotifications(array $want)
{
    global $notifyLog, $clientId;
    $deadline = microtime(true) + 30;
    do {
        usleep(250000); // the outbox delivers within its poll
        $got = [];
        foreach (file($notifyLog, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
            $got[] = json_decode($line);
        }
        $missing = array_filter(array_keys($want), function ($id) use ($got, $want) {
            foreach ($got as $n) {
                if ($n->paymentRequestId === $id && $n->verified && ($want[$id] === null || $n->resultCode === $want[$id])) {
                    return false;
                }
            }
            return true;
        });
    } while ($missing && microtime(true) < $deadline);
    $failures = 0;
    foreach ($got as $n) {
        $ok = $n->verified && $n->clientId === $clientId && $n->notifyType === 'PAYMENT_RESULT';
        $failures += $ok ? 0 : 1;
        printf("%s %-17s %s %s %s%s\n", $ok ? 'ok  ' : 'FAIL', 'notification', $n->paymentRequestId, $n->resultStatus,
            $n->resultCode, $n->verified ? ', signature verified' : ', signature NOT verified');
    }
    foreach ($missing as $id) {
        $failures++;
        printf("FAIL %-17s none verified for %s%s within 30 s\n", 'notification', $id,
            $want[$id] === null ? '' : " with {$want[$id]}");
    }
    return $failures;
}
