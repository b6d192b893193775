// What a user's role lets them do, as the API decides it (functions/domain/records.py ROLES and User,
// functions/services/access.py, functions/services/annotations.py). The pages offer only what the role
// can do: an action the API would refuse with 403 is not shown at all.
//
//   admin      everything, in every project; creates and changes users, invites anyone
//   manager    creates projects; in the projects they belong to: settings, import, members, models,
//              deleting tasks, annotations and predictions, snapshots; invites annotators and reviewers
//   everyone   their own account: API token, personal access tokens, password
//   reviewer   labels and exports the projects they belong to; may change anyone's annotation; accepts
//              and rejects annotations (managers and admins too)
//   annotator  labels and exports the projects they belong to; changes only their own annotations

/** Create projects, and change the projects one can see: settings, import, members, deletions. */
export const canManage = (user) => user.role === "admin" || user.role === "manager";

/** Connect, edit, test, train and delete a project's models; choose which predictions annotators see.
 *  Every member may read the models and use interactive pre-annotation while labeling. */
export const canManageModels = (user) => canManage(user);

/** Change (Update) an annotation someone else wrote. */
export const canChangeOthersAnnotations = (user) => user.role !== "annotator";

/** Accept or reject annotations and see agreement (functions/services/reviews.py REVIEWER_ROLES). */
export const canReview = (user) => ["admin", "manager", "reviewer"].includes(user.role);

/** The id of an annotation's author: the API gives `completed_by` as an id, or in task views an object. */
export const authorOf = (annotation) => annotation.completed_by?.id ?? annotation.completed_by ?? null;

/** The Users page: create users, change their roles, invite anyone (admins). */
export const canManageUsers = (user) => user.role === "admin";

/** The roles a user may give someone they invite (functions/services/invites.py): admins any, managers
 *  annotators and reviewers into one of their projects, others none. */
export const invitableRoles = (user) => ({
  admin: ["annotator", "reviewer", "manager", "admin"],
  manager: ["annotator", "reviewer"],
}[user.role] || []);
