import { loadCardContent } from '../../../src/cards/load-content.js';
import { readImagingFindings } from '../../../src/rules/imaging-findings.js';

const rules = loadCardContent().contextRules.imaging;

function findingsOf(conclusion: string): string[] {
  return readImagingFindings({ conclusion }, rules)
    .map((finding) => finding.id)
    .sort();
}

describe('readImagingFindings', () => {
  it.each([
    ['Choledocholithiasis.', ['duct-stone']],
    ['Dilated CBD measuring 12 mm.', ['duct-dilatation']],
    ['Intrahepatic biliary ductal dilatation.', ['duct-dilatation']],
    [
      '8 mm stone in the distal common bile duct with upstream dilatation of the CBD',
      ['duct-dilatation', 'duct-stone'],
    ],
    ['Cholelithiasis. No choledocholithiasis.', []],
    ['No intrahepatic or extrahepatic biliary ductal dilatation.', []],
    ['CBD measures 4 mm, not dilated.', []],
    ['Gallstones without choledocholithiasis', []],
    ['Choledocholithiasis cannot be excluded; MRCP advised.', []],
    ['Possible CBD stone.', []],
    ['CBD stone removed at ERCP; duct now of normal caliber.', []],
    ['Cholelithiasis with gallbladder wall thickening.', []],
    [
      'No gallbladder stones. However, the common bile duct is dilated to 11 mm.',
      ['duct-dilatation'],
    ],
  ])('When the conclusion reads "%s", affirms %j', (conclusion, expected) => {
    expect(findingsOf(conclusion)).toEqual(expected);
  });

  it('When the coded conclusion is an ICD-10-CM bile-duct calculus, affirms a duct stone', () => {
    const findings = readImagingFindings(
      {
        conclusionCode: [
          { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'K80.51' }] },
        ],
      },
      rules,
    );

    expect(findings.map((finding) => finding.id)).toEqual(['duct-stone']);
  });
});
