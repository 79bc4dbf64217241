// The same bare relay hop in Node with dgram, as Turnpike sends to a peer: an unconnected send
// per datagram with a lookup that answers IP literals at once (src/net/udp-socket.ts).
import dgram from 'node:dgram';

const [base, k, sinkPort, count] = process.argv.slice(2).map(Number);
const lookup = (address, _family, callback) => callback(null, address, 4);
const out = dgram.createSocket({ type: 'udp4', lookup });
await new Promise((resolve) => out.bind(0, '127.0.0.1', resolve));
let relayed = 0;
let start;
let last = Date.now();
const finish = () => {
  const cpu = process.cpuUsage(start);
  console.log(`relayed ${relayed} user ${cpu.user} sys ${cpu.system}`);
  process.exit(0);
};
const onMessage = (data) => {
  if (relayed === 0) start = process.cpuUsage();
  out.send(data, 0, data.length, sinkPort, '127.0.0.1');
  last = Date.now();
  if (++relayed === count) finish();
};
await Promise.all(Array.from({ length: k }, (_, i) => new Promise((resolve) => {
  const socket = dgram.createSocket({ type: 'udp4', lookup });
  socket.on('message', onMessage);
  socket.bind(base + i, '127.0.0.1', resolve);
})));
setInterval(() => { if (relayed > 0 && Date.now() - last > 2000) finish(); }, 500);
console.log('ready');
