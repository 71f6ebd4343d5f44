// Text that may be absent, shared by every copy: an identity's executable
// path, user, cgroup and unit name are copied into every row that names the
// process, so a copy shares the characters instead of allocating them
// again. Reads like std::optional<std::string>; never changes once made
// (assigning makes new text). Not for sharing between threads.
#pragma once
#include <optional>
#include <ostream>
#include <string>
#include <utility>

namespace netacct {

class SharedText {
 public:
  SharedText() = default;
  SharedText(std::nullopt_t) {}
  SharedText(const char* s) : text_(new Text{.chars = s}) {}
  SharedText(std::string s) : text_(new Text{.chars = std::move(s)}) {}
  SharedText(const std::optional<std::string>& s) : text_(s ? new Text{.chars = *s} : nullptr) {}
  SharedText(const SharedText& o) : text_(o.text_) {
    if (text_) ++text_->copies;
  }
  SharedText(SharedText&& o) noexcept : text_(std::exchange(o.text_, nullptr)) {}
  SharedText& operator=(SharedText o) noexcept {
    std::swap(text_, o.text_);
    return *this;
  }
  ~SharedText() {
    if (text_ && text_->copies-- == 0) delete text_;
  }

  bool has_value() const { return text_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  const std::string& operator*() const { return text_->chars; }
  const std::string* operator->() const { return &text_->chars; }
  std::string value_or(std::string absent) const { return text_ ? text_->chars : absent; }
  std::optional<std::string> optional() const {
    return text_ ? std::optional<std::string>(text_->chars) : std::nullopt;
  }

  friend bool operator==(const SharedText& a, const SharedText& b) {
    return a.text_ == b.text_ || (a && b && *a == *b) || (!a && !b);
  }
  friend bool operator==(const SharedText& a, std::nullopt_t) { return !a; }
  friend bool operator==(const SharedText& a, const std::string& b) { return a && *a == b; }
  friend bool operator==(const SharedText& a, const char* b) { return a && *a == b; }
  friend std::ostream& operator<<(std::ostream& os, const SharedText& t) {
    return t ? os << '"' << *t << '"' : os << "(nullopt)";
  }

 private:
  // The count is a plain integer, not std::shared_ptr's atomic one: an
  // atomic increment of a count that is not in cache stalls until memory
  // answers, one after the other, and a report at 100,000 connections made
  // four per row (a third of assembling it). Identities, and so their
  // text, live on the one thread that runs the pipeline.
  struct Text {
    std::string chars;
    size_t copies = 0;  // besides the first
  };
  Text* text_ = nullptr;
};

}  // namespace netacct
