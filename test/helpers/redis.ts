// The job-queue tests' redis-server (shared with `npm run bench -- --workers N`).
export { startRedis, type TestRedis } from '../../tasks/dev/redis-server.ts';
