// go-broker's load shape against broker.Broker/Publish: random subjects, bodies of 10-60
// characters, expirations of 1-20 s, every call expected to answer OK. Run with
//   k6 run -e ADDR=127.0.0.1:50051 -e PROTO_DIR=proto benchmarks/k6/go_broker_publish.js
import grpc from 'k6/net/grpc';
import { check } from 'k6';
import encoding from 'k6/encoding';

const client = new grpc.Client();
client.load([__ENV.PROTO_DIR || 'proto'], 'broker/broker.proto');

export const options = {
  vus: Number(__ENV.VUS || 4),
  duration: __ENV.DURATION || '5s',
  thresholds: { checks: ['rate==1.0'] },
};

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

function randomString(length) {
  let text = '';
  for (let i = 0; i < length; i++) {
    text += LETTERS.charAt(Math.floor(Math.random() * LETTERS.length));
  }
  return text;
}

function randomInt(min, max) {
  return min + Math.floor(Math.random() * (max - min + 1));
}

export default () => {
  if (__ITER === 0) {
    client.connect(__ENV.ADDR || '127.0.0.1:50051', { plaintext: true });
  }
  const request = {
    subject: randomString(randomInt(1, 3)),
    // bytes travel as base64 in k6's JSON mapping of protobuf
    body: encoding.b64encode(randomString(randomInt(10, 60))),
    expirationSeconds: randomInt(1, 20),
  };
  const response = client.invoke('broker.Broker/Publish', request);
  check(response, { 'status is OK': (r) => r && r.status === grpc.StatusOK });
};


