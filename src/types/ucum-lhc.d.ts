// Typings for the parts of @lhncbc/ucum-lhc the engine uses (the package ships none).
// @see https://lhncbc.github.io/ucum-lhc/
declare module '@lhncbc/ucum-lhc' {
  export interface ValidateUnitResult {
    status: 'valid' | 'invalid' | 'error';
    ucumCode: string | null;
    msg: string[];
  }

  export interface ConvertUnitResult {
    status: 'succeeded' | 'failed' | 'error';
    toVal: number | null;
    msg: string[];
  }

  export interface ConvertUnitOptions {
    suggest?: boolean;
    /** g/mol; needed to convert between mass and substance units. */
    molecularWeight?: number | null;
  }

  export interface UcumLhcUtils {
    validateUnitString(unit: string, suggest?: boolean): ValidateUnitResult;
    convertUnitTo(
      fromUnit: string,
      fromValue: number,
      toUnit: string,
      options?: ConvertUnitOptions,
    ): ConvertUnitResult;
  }

  const ucum: {
    UcumLhcUtils: { getInstance(): UcumLhcUtils };
  };
  export default ucum;
}
