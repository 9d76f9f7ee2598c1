import { main } from './commands.ts';

// The `distill` entry point (tsx tasks/cli.ts, or the package bin). Logic lives in commands.ts.
process.exitCode = await main(process.argv.slice(2));
