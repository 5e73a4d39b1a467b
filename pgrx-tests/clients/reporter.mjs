// A node --test reporter printing cargo-test-like lines, which scripts/test.sh counts:
//   test js::<name> ... ok|FAILED        (failures followed by the error, indented)
//   test result: ok|FAILED. N passed; M failed
export default async function* reporter(source) {
  let passed = 0;
  let failed = 0;
  for await (const { type, data } of source) {
    if ((type === 'test:pass' || type === 'test:fail') && data.nesting === 0) {
      if (data.skip || data.todo) continue;
      if (type === 'test:pass') {
        passed += 1;
        yield `test js::${data.name} ... ok\n`;
      } else {
        failed += 1;
        const err = data.details?.error;
        const cause = err?.cause ?? err;
        const text = String(cause?.stack ?? cause?.message ?? cause ?? 'failed');
        yield `test js::${data.name} ... FAILED\n${text.replace(/^/gm, '    ')}\n`;
      }
    } else if (type === 'test:stdout' || type === 'test:stderr') {
      yield data.message;
    } else if (type === 'test:diagnostic' && /^(fail|cancelled) [1-9]/.test(data.message)) {
      yield `# ${data.message}\n`;
    }
  }
  if (passed + failed === 0) failed = 1; // no test ran: the file did not load
  const ok = failed === 0;
  yield `test result: ${ok ? 'ok' : 'FAILED'}. ${passed} passed; ${failed} failed\n`;
}
