import { Faker, en } from '@faker-js/faker';

const COURTS = [
  'Superior Court of California, County of Los Angeles',
  'Superior Court of California, County of San Francisco',
  'Superior Court of California, County of San Diego',
  'U.S. District Court, Northern District of California',
  'U.S. District Court, Central District of California',
  'California Court of Appeal, Second District',
];

const MOTIONS = ['summary judgment', 'demurrer', 'motion to compel', 'preliminary injunction'];

/**
 * Realistic, repeatable court data. Every answer is derived from the seed and the
 * identifier asked for, so the same request always gets the same body.
 */
export class CourtData {
  constructor(private readonly seed: number) {}

  private fakerFor(id: string): Faker {
    const faker = new Faker({ locale: [en] });
    let hash = this.seed;
    for (const char of id) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
    faker.seed(hash);
    return faker;
  }

  case(id: string) {
    const f = this.fakerFor(id);
    const plaintiff = f.company.name();
    const defendant = f.person.fullName();
    return {
      id,
      caption: `${plaintiff} v. ${defendant}`,
      court: f.helpers.arrayElement(COURTS),
      filedOn: f.date.past({ years: 6, refDate: '2026-01-01' }).toISOString().slice(0, 10),
      status: f.helpers.arrayElement(['open', 'closed', 'stayed'] as const),
      parties: [plaintiff, defendant],
    };
  }

  search(query: string, limit: number) {
    const f = this.fakerFor(`search:${query}`);
    const ids = Array.from(
      { length: limit },
      () => `case_${f.string.alphanumeric({ length: 10, casing: 'lower' })}`,
    );
    return { cases: ids.map((id) => this.case(id)) };
  }

  docket(caseId: string) {
    const f = this.fakerFor(`docket:${caseId}`);
    const count = f.number.int({ min: 3, max: 12 });
    const entries = Array.from({ length: count }, (_, i) => ({
      number: count - i,
      filedOn: f.date.past({ years: 2, refDate: '2026-01-01' }).toISOString().slice(0, 10),
      text: f.helpers.arrayElement([
        'Complaint filed',
        'Answer filed',
        'Order after hearing',
        'Notice of motion',
      ]),
    }));
    return { caseId, entries };
  }

  judge(judgeId: string) {
    const f = this.fakerFor(`judge:${judgeId}`);
    return {
      judgeId,
      name: `Hon. ${f.person.fullName()}`,
      rulings: MOTIONS.map((motionType) => ({
        motionType,
        granted: f.number.int({ min: 0, max: 120 }),
        denied: f.number.int({ min: 0, max: 120 }),
      })),
    };
  }

  export(query: string) {
    const f = this.fakerFor(`export:${query}`);
    return {
      exportId: `exp_${f.string.alphanumeric({ length: 12, casing: 'lower' })}`,
      status: 'queued' as const,
      estimatedRecords: f.number.int({ min: 10, max: 50000 }),
    };
  }
}
