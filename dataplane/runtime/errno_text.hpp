// errno_text: the text of an errno value, safe on any thread (std::strerror shares one static
// buffer between threads; the lanes report start-up failures from the control thread while
// other lanes may already log). For start-up and error messages, not the data path.
#pragma once

#include <string>
#include <system_error>

namespace poolreg::runtime {

inline std::string errno_text(int error) { return std::error_code(error, std::generic_category()).message(); }

}  // namespace poolreg::runtime
