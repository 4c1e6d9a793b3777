import { expect, it } from 'vitest';
import { tabwrite } from '../../../src/cli/format/tabwriter.js';

it('pads every column but the last to max(10, width + 3), like docker', () => {
  const out = tabwrite(['REPOSITORY\tTAG\tIMAGE ID', 'zoozoo.coomm/nyapacchi\t13\tabc', 'apa000ex22\tlatest\tabc']);
  expect(out).toBe(
    'REPOSITORY               TAG       IMAGE ID\n'
    + 'zoozoo.coomm/nyapacchi   13        abc\n'
    + 'apa000ex22               latest    abc\n',
  );
});
