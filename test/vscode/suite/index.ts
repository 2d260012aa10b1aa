// The tests module the extension host loads (the payload's extensionTestsPath). It must export
// run(): a rejected promise is a failed run, and the workbench reports the exit code to the driver.
// Tests are registered explicitly, in order: they walk one developer's day (activate, connect,
// use, look at the log, disconnect), each step starting from where the last one left the machine.
import Mocha from 'mocha';
import { hostTests } from './host-tests.js';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec', bail: true });
  const suite = Mocha.Suite.create(mocha.suite, 'Gatehouse extension in VS Code');
  for (const [title, fn] of hostTests) suite.addTest(new Mocha.Test(title, fn));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} in-host test(s) failed`)) : resolve()));
  });
}
