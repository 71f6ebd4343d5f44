// Text that may be absent, shared by every copy: an identity's executable
// path, user, cgroup and unit name are copied into every row that names the
// process, so a copy shares the characters instead of allocating them
// again. Reads like std::optional<std::string>; never changes once made
// (assigning makes new text).
#pragma once
#include <memory>
#include <optional>
#include <ostream>
#include <string>

namespace netacct {

class SharedText {
 public:
  SharedText() = default;
  SharedText(std::nullopt_t) {}
  SharedText(const char* s) : text_(std::make_shared<const std::string>(s)) {}
  SharedText(std::string s) : text_(std::make_shared<const std::string>(std::move(s))) {}
  SharedText(const std::optional<std::string>& s) {
    if (s) text_ = std::make_shared<const std::string>(*s);
  }

  bool has_value() const { return text_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  const std::string& operator*() const { return *text_; }
  const std::string* operator->() const { return text_.get(); }
  std::string value_or(std::string absent) const { return text_ ? *text_ : absent; }
  std::optional<std::string> optional() const {
    return text_ ? std::optional<std::string>(*text_) : std::nullopt;
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
  std::shared_ptr<const std::string> text_;
};

}  // namespace netacct
