import { inProcess } from './test/helpers/project.ts';
const r = await inProcess(process.argv.slice(2));
console.log(r.code, r.stdout, r.stderr);
