// The page template and page script of the HTML report, compiled into the
// library so that switchboard-soak needs no data files of its own at run time.
// They are generated at configure time (CMakeLists.txt here) from
// report_page.html and report_page.js, which are the files to edit.
#pragma once

#include <string_view>

namespace sb::soak {

// The report page with three markers html_report.cpp fills in:
// @@REPORT_JSON@@, @@CHART_JS@@ and @@PAGE_JS@@.
std::string_view report_page_template();

// The script that draws the summary and the charts from the embedded JSON.
std::string_view report_page_script();

}  // namespace sb::soak
