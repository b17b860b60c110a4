// Every string the screens show, Vietnamese first. `t(key, params)` fills {name} slots.
const STRINGS = {
  vi: {
    app_name: "Phòng họp số",
    lang_switch: "EN",
    lang_switch_title: "Switch to English",
    loading: "Đang tải…",
    offline: "Mất kết nối — đang kết nối lại…",
    online: "Đã kết nối",
    error_network: "Không kết nối được với máy chủ phòng họp. Vui lòng thử lại.",
    error_generic: "Đã có lỗi xảy ra.",
    close: "Đóng",
    cancel: "Hủy",
    save: "Lưu",
    none: "—",

    // pairing
    pair_title: "Ghép nối thiết bị",
    pair_lead: "Nhập mã ghép nối gồm 6 chữ số do thư ký cấp.",
    pair_code_label: "Mã ghép nối",
    pair_submit: "Ghép nối",
    pair_working: "Đang ghép nối…",
    pair_checking: "Đang kiểm tra thiết bị…",
    pair_need_6: "Mã ghép nối gồm đúng 6 chữ số.",
    pair_done: "Đã ghép nối: {name}. Đang chuyển trang…",

    // roles
    role_chair: "Chủ tọa",
    role_vice_chair: "Phó chủ tọa",
    role_delegate: "Đại biểu",
    role_secretary: "Thư ký",
    role_technician: "Kỹ thuật viên",
    role_display: "Màn hình hội trường",
    role_guest: "Khách mời",

    // sitting
    sitting_planned: "Chưa khai mạc",
    sitting_open: "Đang họp",
    sitting_closed: "Đã bế mạc",
    sitting_none: "Chưa có phiên họp",
    rehearsal: "TẬP HUẤN",
    seat: "Ghế {seat}",
    seat_col: "Ghế",
    seat_label: "Số ghế",
    open_sitting: "Khai mạc phiên họp",
    close_sitting: "Bế mạc phiên họp",
    confirm_close_sitting: "Bế mạc phiên họp?",
    confirm_time: "Xác nhận ngày giờ của hộp: {time}",
    confirm_time_apart: "Giờ hộp {box} ≠ giờ máy này {here}: chạm lần nữa để mở theo giờ máy này (ghi vào biên bản)",

    // agenda
    agenda: "Chương trình",
    agenda_empty: "Chưa có nội dung nào trong chương trình.",
    current_item: "Nội dung đang thảo luận",
    item_n: "Nội dung {n}",
    start_item: "Bắt đầu",
    now_discussing: "Đang thảo luận",
    no_current_item: "Chưa bắt đầu nội dung nào.",

    // documents
    documents: "Tài liệu",
    no_documents: "Nội dung này chưa có tài liệu.",
    page_of: "Trang {n}/{total}",
    prev_page: "Trang trước",
    next_page: "Trang sau",
    go_to_page: "Đến trang",
    go: "Đi",
    pages: "{n} trang",
    pages_docs: "{n} tài liệu",

    // attendance
    attendance: "Điểm danh",
    check_in: "Điểm danh",
    checked_in: "Đã điểm danh",
    sitting_not_open_hint: "Điểm danh khi phiên họp đã khai mạc",
    check_in_for: "Điểm danh hộ",
    check_out_for: "Hủy điểm danh",
    present: "Có mặt",
    present_of: "Có mặt {present}/{total}",
    needed: "Cần {needed}",
    quorum_ok: "Đủ số đại biểu để tiến hành",
    quorum_no: "Chưa đủ số đại biểu",
    quorum: "Số đại biểu có mặt",

    // floor
    floor: "Phát biểu",
    request_speak: "Đăng ký phát biểu",
    request_rebuttal: "Đăng ký tranh luận",
    withdraw: "Rút đăng ký",
    queue_position: "Bạn đang ở vị trí thứ {n} trong danh sách chờ",
    you_are_speaking: "Bạn đang phát biểu",
    queue: "Danh sách đăng ký phát biểu",
    queue_empty: "Chưa có đại biểu đăng ký.",
    speaking: "Đang phát biểu",
    nobody_speaking: "Chưa có đại biểu phát biểu.",
    kind_speak: "Phát biểu",
    kind_rebuttal: "Tranh luận",
    grant: "Mời phát biểu",
    grant_next: "Mời người tiếp theo",
    end_speech: "Kết thúc",
    end_all: "Kết thúc tất cả",

    // polls
    poll: "Biểu quyết",
    poll_open_title: "Đang biểu quyết",
    poll_new: "Mở biểu quyết",
    poll_question: "Nội dung biểu quyết",
    poll_question_default: "Tán thành thông qua nội dung này?",
    poll_method: "Hình thức",
    method_public: "Công khai",
    method_secret: "Bỏ phiếu kín",
    poll_rule: "Điều kiện thông qua",
    rule_more_than_half_of_total: "Quá nửa tổng số đại biểu",
    rule_two_thirds_of_total: "Ít nhất hai phần ba tổng số đại biểu",
    rule_more_than_half_of_present: "Quá nửa số đại biểu có mặt",
    rule_more_than_half_of_cast: "Quá nửa số đại biểu tham gia biểu quyết",
    poll_answers: "Phương án",
    poll_open: "Mở biểu quyết",
    poll_close: "Kết thúc biểu quyết",
    confirm_close_poll: "Kết thúc biểu quyết? Kết quả sẽ được chốt.",
    voted_count: "Đã biểu quyết: {voted}/{total}",
    choose_answer: "Chọn phương án biểu quyết",
    your_choice: "Bạn chọn: {label}",
    confirm_vote: "Xác nhận",
    change_choice: "Chọn lại",
    voted: "Đã biểu quyết",
    voted_with: "Đã biểu quyết: {label}",
    ballot_final: "Phiếu đã gửi không thể thay đổi.",
    secret_note: "Bỏ phiếu kín — không ai biết bạn chọn phương án nào.",
    public_note: "Biểu quyết công khai.",
    not_present_vote: "Bạn cần điểm danh trước khi biểu quyết.",
    cannot_vote: "Bạn theo dõi biểu quyết, không tham gia bỏ phiếu.",
    candidate_submit: "Gửi phiếu",
    choose_up_to: "Chọn tối đa {n} người",

    // answers
    ans_for: "Tán thành",
    ans_against: "Không tán thành",
    ans_abstain: "Không biểu quyết",
    ans_not_voted: "Không tham gia biểu quyết",
    ans_high: "Tín nhiệm cao",
    ans_trust: "Tín nhiệm",
    ans_low: "Tín nhiệm thấp",
    ans_no_trust: "Không tín nhiệm",

    // results
    result: "Kết quả biểu quyết",
    result_last: "Kết quả lượt biểu quyết gần nhất",
    passed: "Thông qua",
    not_passed: "Không thông qua",
    base_total: "trên tổng số {base} đại biểu",
    base_present: "trên tổng số {base} đại biểu có mặt",
    base_cast: "trên tổng số {base} đại biểu tham gia biểu quyết",
    threshold: "Cần ít nhất {n} phiếu tán thành ({rule})",
    turnout: "Số đại biểu tham gia biểu quyết: {n}",
    elected: "Trúng cử: {names}",
    nobody_elected: "Không có người trúng cử",
    tie: "Có số phiếu bằng nhau ở vị trí cuối — cần bầu lại.",
    flag_more_than_half_low: "Quá nửa tín nhiệm thấp",
    flag_two_thirds_low: "Từ hai phần ba tín nhiệm thấp",
    votes_n: "{n} phiếu",
    per_delegate: "Chi tiết theo đại biểu",

    // secretary
    secretary_title: "Bàn thư ký",
    technician_title: "Kỹ thuật — ghép nối thiết bị",
    participants: "Thành phần tham dự",
    name: "Họ và tên",
    role: "Vai trò",
    title: "Chức vụ",
    team: "Tổ",
    actions: "Thao tác",
    issue_code: "Cấp mã ghép nối",
    pairing_code_for: "Mã ghép nối cho {name}",
    expires_at: "Hết hạn lúc {time}",
    pair_url: "Hoặc quét mã QR bằng máy tính bảng",
    add_participant: "Thêm thành phần",
    add: "Thêm",
    add_item: "Thêm nội dung vào chương trình",
    item_title: "Tên nội dung",
    upload: "Tải tài liệu lên",
    upload_file: "Tệp (PDF, DOCX, XLSX, JPG, PNG)",
    upload_item: "Thuộc nội dung",
    upload_access: "Quyền xem",
    access_public: "Công khai",
    access_delegates: "Đại biểu",
    upload_password: "Mật khẩu tệp (nếu có)",
    uploading: "Đang xử lý tài liệu…",
    uploaded: "Đã tải lên: {title} ({pages} trang)",
    setup: "Thiết lập kỳ họp",
    setup_body: "Tên Hội đồng nhân dân",
    setup_session: "Tên kỳ họp",
    setup_sittings: "Các phiên họp (mỗi dòng một phiên)",
    setup_rehearsal: "Tập huấn (không phải kỳ họp thật)",
    setup_done: "Đã thiết lập kỳ họp.",
    added: "Đã thêm.",
    yes: "Có",
    no: "Không",

    // chair
    chair_title: "Bàn chủ tọa",
    delegates_total: "Tổng số đại biểu: {n}",

    // display
    display_waiting: "Chờ khai mạc",
    elapsed: "Thời gian",
  },
  en: {
    app_name: "Digital Council Chamber",
    lang_switch: "VI",
    lang_switch_title: "Chuyển sang tiếng Việt",
    loading: "Loading…",
    offline: "Connection lost — reconnecting…",
    online: "Connected",
    error_network: "Cannot reach the chamber server. Please try again.",
    error_generic: "Something went wrong.",
    close: "Close",
    cancel: "Cancel",
    save: "Save",
    none: "—",

    pair_title: "Pair this device",
    pair_lead: "Enter the 6-digit pairing code the secretary gave you.",
    pair_code_label: "Pairing code",
    pair_submit: "Pair",
    pair_working: "Pairing…",
    pair_checking: "Checking this device…",
    pair_need_6: "The pairing code has exactly 6 digits.",
    pair_done: "Paired: {name}. Opening…",

    role_chair: "Chair",
    role_vice_chair: "Vice chair",
    role_delegate: "Delegate",
    role_secretary: "Secretary",
    role_technician: "Technician",
    role_display: "Hall display",
    role_guest: "Guest",

    sitting_planned: "Not yet opened",
    sitting_open: "In session",
    sitting_closed: "Closed",
    sitting_none: "No sitting yet",
    rehearsal: "REHEARSAL",
    seat: "Seat {seat}",
    seat_col: "Seat",
    seat_label: "Seat number",
    open_sitting: "Open the sitting",
    close_sitting: "Close the sitting",
    confirm_close_sitting: "Close the sitting?",
    confirm_time: "Confirm the box's date and time: {time}",
    confirm_time_apart: "Box {box} ≠ this device {here}: tap again to open on this device's time (recorded)",

    agenda: "Agenda",
    agenda_empty: "The agenda is empty.",
    current_item: "Current item",
    item_n: "Item {n}",
    start_item: "Start",
    now_discussing: "Now discussing",
    no_current_item: "No item has started.",

    documents: "Documents",
    no_documents: "This item has no documents.",
    page_of: "Page {n}/{total}",
    prev_page: "Previous page",
    next_page: "Next page",
    go_to_page: "Go to page",
    go: "Go",
    pages: "{n} pages",
    pages_docs: "{n} documents",
    pages_docs_one: "{n} document",

    attendance: "Attendance",
    check_in: "Check in",
    checked_in: "Checked in",
    sitting_not_open_hint: "Check-in opens when the sitting is opened",
    check_in_for: "Check in",
    check_out_for: "Check out",
    present: "Present",
    present_of: "Present {present}/{total}",
    needed: "Needed {needed}",
    quorum_ok: "Quorum reached",
    quorum_no: "No quorum",
    quorum: "Delegates present",

    floor: "Floor",
    request_speak: "Request to speak",
    request_rebuttal: "Request a rebuttal",
    withdraw: "Withdraw",
    queue_position: "You are number {n} in the queue",
    you_are_speaking: "You have the floor",
    queue: "Speakers' queue",
    queue_empty: "Nobody has asked to speak.",
    speaking: "Speaking",
    nobody_speaking: "Nobody is speaking.",
    kind_speak: "Speech",
    kind_rebuttal: "Rebuttal",
    grant: "Give the floor",
    grant_next: "Next speaker",
    end_speech: "End",
    end_all: "End all",

    poll: "Vote",
    poll_open_title: "Voting in progress",
    poll_new: "Open a vote",
    poll_question: "Question",
    poll_question_default: "Do you approve this item?",
    poll_method: "Method",
    method_public: "Public",
    method_secret: "Secret ballot",
    poll_rule: "Passing rule",
    rule_more_than_half_of_total: "More than half of all delegates",
    rule_two_thirds_of_total: "At least two thirds of all delegates",
    rule_more_than_half_of_present: "More than half of delegates present",
    rule_more_than_half_of_cast: "More than half of ballots cast",
    poll_answers: "Answers",
    poll_open: "Open the vote",
    poll_close: "Close the vote",
    confirm_close_poll: "Close the vote? The result will be final.",
    voted_count: "Voted: {voted}/{total}",
    choose_answer: "Choose your answer",
    your_choice: "Your choice: {label}",
    confirm_vote: "Confirm",
    change_choice: "Change",
    voted: "Voted",
    voted_with: "Voted: {label}",
    ballot_final: "A cast ballot cannot be changed.",
    secret_note: "Secret ballot — nobody can see what you choose.",
    public_note: "Public vote.",
    not_present_vote: "Check in before you vote.",
    cannot_vote: "You follow the vote but do not vote.",
    candidate_submit: "Cast ballot",
    choose_up_to: "Choose at most {n}",

    ans_for: "For",
    ans_against: "Against",
    ans_abstain: "Abstain",
    ans_not_voted: "Did not vote",
    ans_high: "High confidence",
    ans_trust: "Confidence",
    ans_low: "Low confidence",
    ans_no_trust: "No confidence",

    result: "Result",
    result_last: "Result of the last vote",
    passed: "Passed",
    not_passed: "Not passed",
    base_total: "out of all {base} delegates",
    base_present: "out of {base} delegates present",
    base_cast: "out of {base} delegates who voted",
    threshold: "Needs at least {n} votes for ({rule})",
    turnout: "Delegates who voted: {n}",
    elected: "Elected: {names}",
    nobody_elected: "Nobody elected",
    tie: "Tie at the last place — a new round is needed.",
    flag_more_than_half_low: "More than half low confidence",
    flag_two_thirds_low: "Two thirds or more low confidence",
    votes_n: "{n} votes",
    per_delegate: "By delegate",

    secretary_title: "Secretary's desk",
    technician_title: "Technician — device pairing",
    participants: "Participants",
    name: "Full name",
    role: "Role",
    title: "Title",
    team: "Team",
    actions: "Actions",
    issue_code: "Issue pairing code",
    pairing_code_for: "Pairing code for {name}",
    expires_at: "Expires at {time}",
    pair_url: "Or scan the QR code with the tablet",
    add_participant: "Add participant",
    add: "Add",
    add_item: "Add an agenda item",
    item_title: "Item title",
    upload: "Upload a document",
    upload_file: "File (PDF, DOCX, XLSX, JPG, PNG)",
    upload_item: "Agenda item",
    upload_access: "Who may read",
    access_public: "Everyone",
    access_delegates: "Delegates",
    upload_password: "File password (if any)",
    uploading: "Processing the document…",
    uploaded: "Uploaded: {title} ({pages} pages)",
    setup: "Session setup",
    setup_body: "People's Council name",
    setup_session: "Session title",
    setup_sittings: "Sittings (one per line)",
    setup_rehearsal: "Rehearsal (not a real session)",
    setup_done: "The session is set up.",
    added: "Added.",
    yes: "Yes",
    no: "No",

    chair_title: "Chair's console",
    delegates_total: "Delegates of the body: {n}",

    display_waiting: "Waiting for the sitting to open",
    elapsed: "Time",
  },
};

const KEY = "phs.lang";

/** The current language: "vi" (default) or "en". */
export function getLang() {
  try {
    return localStorage.getItem(KEY) === "en" ? "en" : "vi";
  } catch {
    return "vi";
  }
}

export function setLang(lang) {
  try {
    localStorage.setItem(KEY, lang === "en" ? "en" : "vi");
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  document.documentElement.lang = getLang();
}

/** Feature modules add their strings ({vi: {...}, en: {...}}), Vietnamese first. */
export function addStrings(extra) {
  for (const lang of ["vi", "en"]) Object.assign(STRINGS[lang], extra[lang] || {});
}

/** Translate `key`, filling `{slot}`s from params. Unknown keys show themselves. */
export function t(key, params = {}) {
  const lang = getLang();
  // English needs a singular ("1 document"); Vietnamese has none, so only "_one" keys where it differs.
  const one = params.n === 1 ? STRINGS[lang][`${key}_one`] : undefined;
  let s = one ?? STRINGS[lang][key] ?? STRINGS.vi[key] ?? key;
  for (const [k, v] of Object.entries(params)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

/** Fill static text: elements with data-i18n (text), data-i18n-placeholder, data-i18n-title. */
export function applyI18n(root = document) {
  document.documentElement.lang = getLang();
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]"))
    el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

/** Format a number as the server gave it: one decimal, decimal comma in Vietnamese. */
export function formatShare(x) {
  if (x === null || x === undefined || Number.isNaN(Number(x))) return "—";
  const s = Number(x).toFixed(1);
  return (getLang() === "vi" ? s.replace(".", ",") : s) + " %";
}
