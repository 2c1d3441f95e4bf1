// Modal dialogs (the native <dialog>: focus is kept inside, Escape closes it).

import { h, replace } from "./dom.js";

/**
 * A form in a modal dialog.
 * @param {{title: string, fields: Node[], submitLabel: string,
 *   onSubmit: (form: HTMLFormElement) => Promise<boolean|void>, danger?: boolean}} spec
 *   `onSubmit` may throw an ApiError: its message is shown, and the field it names marked.
 *   The dialog closes when it returns anything but false.
 * @returns {Promise<boolean>} true when submitted, false when cancelled
 */
export function formDialog({ title, fields, submitLabel, onSubmit, danger = false }) {
  return new Promise((resolve) => {
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: danger ? "danger" : "primary" }, submitLabel);
    const cancel = h("button", { type: "button" }, "Cancel");
    const heading = h("h2", { id: "dialog-title" }, title);
    const form = h("form", { method: "dialog", novalidate: true }, heading, error, fields,
      h("div", { class: "actions" }, cancel, submit));
    const dialog = h("dialog", { "aria-labelledby": "dialog-title" }, form);
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    cancel.addEventListener("click", () => finish(false));
    dialog.addEventListener("close", () => finish(false));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        if ((await onSubmit(form)) !== false) finish(true);
      } catch (failure) {
        showError(form, error, failure);
      } finally {
        submit.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = form.querySelector("input, select, textarea");
    (first || submit).focus();
  });
}

/** Ask before doing something that cannot be undone. */
export function confirmDialog(title, message, confirmLabel) {
  return formDialog({
    title, submitLabel: confirmLabel, danger: true, fields: [h("p", {}, message)],
    onSubmit: async () => true,
  });
}

/** Show an API error on a form: the message, and the field it names marked invalid. */
export function showError(form, errorEl, failure) {
  for (const marked of form.querySelectorAll("[aria-invalid]")) marked.removeAttribute("aria-invalid");
  replace(errorEl, failure.message);
  errorEl.hidden = false;
  const name = failure.details && failure.details.field;
  const control = name ? form.querySelector(`[name="${CSS.escape(name.split(".")[0])}"]`) : null;
  if (control) {
    control.setAttribute("aria-invalid", "true");
    control.focus();
  }
}
