import type { Role } from '../session/session';

/** The roles of auth.proto / admin.proto, with what each may do (the server enforces it). */
export const roles: readonly {
  readonly value: Role;
  readonly label: string;
  readonly description: string;
}[] = [
  {
    value: 'admin',
    label: 'Administrator',
    description: 'Everything, including users, API keys and tolerances.',
  },
  { value: 'approver', label: 'Approver', description: 'Reviews and approves exceptions.' },
  { value: 'clerk', label: 'Clerk', description: 'Imports files, reconciles and works the exception queue.' },
  {
    value: 'auditor',
    label: 'Auditor',
    description: 'Reads everything, including the audit log; changes nothing.',
  },
];

export function roleLabel(role: string): string {
  return roles.find((candidate) => candidate.value === role)?.label ?? role;
}
