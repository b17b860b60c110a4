// Correcting the participant list on the secretary's desk: edit a name, title, unit or
// team, and remove a person entered by mistake. The server decides (names NFC, nobody in
// a sitting's record removed); its bilingual refusal is shown in the dialog as it came.
import { api } from "./api.js";
import { el, errorText, fill, run } from "./app.js";
import { addStrings, t } from "./i18n.js";

addStrings({
  vi: {
    participant_edit: "Sửa",
    participant_remove: "Xóa",
    participant_edit_title: "Sửa thông tin: {name}",
    participant_remove_title: "Xóa {name} khỏi danh sách?",
    participant_remove_note: "Các thiết bị đã ghép với người này bị thu hồi ngay. Người đã biểu quyết hoặc phát biểu thì không xóa được.",
    participant_unit: "Đơn vị",
  },
  en: {
    participant_edit: "Edit",
    participant_remove: "Remove",
    participant_edit_title: "Edit: {name}",
    participant_remove_title: "Remove {name} from the list?",
    participant_remove_note: "Devices paired to this person are revoked at once. Someone who has voted or spoken cannot be removed.",
    participant_unit: "Unit",
  },
});

const FIELDS = [
  ["name", "name"],
  ["title", "title"],
  ["unit", "participant_unit"],
  ["team", "team"],
];

function overlay() {
  let node = document.getElementById("participant-overlay");
  if (!node) {
    node = el("div", { id: "participant-overlay", class: "overlay", hidden: true });
    document.body.append(node);
  }
  return node;
}

function close() {
  const node = overlay();
  node.hidden = true;
  fill(node);
}

function dialog(title, body, actions) {
  const node = overlay();
  node.hidden = false;
  fill(node, el("div", { class: "overlay-box", role: "dialog", "aria-modal": "true", "data-testid": "participant-dialog" },
    el("h2", { text: title }), ...body, el("div", { class: "form-row" }, ...actions)));
}

function showError(box, err) {
  box.textContent = err ? errorText(err) : "";
  box.hidden = !err;
}

/** The edit dialog for one participant; only changed fields are sent. */
export function editParticipant(p) {
  const inputs = Object.fromEntries(FIELDS.map(([k]) =>
    [k, el("input", { id: `pe-${k}`, name: k, value: p[k] || "", autocomplete: "off", "data-testid": `participant-edit-${k}`, required: k === "name" })]));
  const error = el("p", { class: "form-error", role: "alert", hidden: true, "data-testid": "participant-edit-error" });
  const form = el("form", { class: "stack-form" },
    ...FIELDS.flatMap(([k, label]) => [el("label", { class: "field-label", for: `pe-${k}`, text: t(label) }), inputs[k]]),
    error);
  const save = el("button", { type: "button", class: "btn primary", "data-testid": "participant-edit-save", text: t("save") });
  const submit = () => {
    const changes = {};
    for (const [k] of FIELDS) if (inputs[k].value !== (p[k] || "")) changes[k] = inputs[k].value;
    if (!Object.keys(changes).length) return close();
    showError(error, null);
    run(save, async () => {
      try {
        await api("PUT", `/api/participants/${encodeURIComponent(p.id)}`, changes);
        close();
      } catch (err) {
        showError(error, err);
      }
    });
  };
  save.addEventListener("click", submit);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit();
  });
  dialog(t("participant_edit_title", { name: p.name }), [form],
    [save, el("button", { type: "button", class: "btn", "data-testid": "participant-edit-cancel", text: t("cancel"), onclick: close })]);
  inputs.name.focus();
}

/** Ask, then remove; a refusal (voted, spoke, a sitting open) stays in the dialog. */
export function removeParticipant(p) {
  const error = el("p", { class: "form-error", role: "alert", hidden: true, "data-testid": "participant-remove-error" });
  const confirm = el("button", { type: "button", class: "btn danger", "data-testid": "participant-remove-confirm", text: t("participant_remove") });
  confirm.addEventListener("click", () => {
    showError(error, null);
    run(confirm, async () => {
      try {
        await api("DELETE", `/api/participants/${encodeURIComponent(p.id)}`);
        close();
      } catch (err) {
        showError(error, err);
      }
    });
  });
  dialog(t("participant_remove_title", { name: p.name }), [el("p", { class: "muted", text: t("participant_remove_note") }), error],
    [confirm, el("button", { type: "button", class: "btn", "data-testid": "participant-remove-cancel", text: t("cancel"), onclick: close })]);
}

/** The row's edit and remove buttons. */
export function participantButtons(p) {
  return [
    el("button", { type: "button", class: "btn", "data-testid": `edit-${p.id}`, text: t("participant_edit"), onclick: () => editParticipant(p) }),
    el("button", { type: "button", class: "btn", "data-testid": `remove-${p.id}`, text: t("participant_remove"), onclick: () => removeParticipant(p) }),
  ];
}
