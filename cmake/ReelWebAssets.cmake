# Browser-side libraries from the npm registry (web/package.json, locked by web/package-lock.json),
# copied into static/vendor/ where /static serves them. Built with every `reel` build; the copies are
# not committed (.gitignore). `npm ci` runs again only when the lock file changes.
find_program(NPM_PROGRAM npm REQUIRED)
set(REEL_WEB_DIR ${PROJECT_SOURCE_DIR}/web)
set(REEL_VENDOR_DIR ${PROJECT_SOURCE_DIR}/static/vendor)
add_custom_command(
  OUTPUT ${REEL_WEB_DIR}/node_modules/.package-lock.json
  COMMAND ${NPM_PROGRAM} ci --no-audit --no-fund --ignore-scripts --silent
  WORKING_DIRECTORY ${REEL_WEB_DIR}
  DEPENDS ${REEL_WEB_DIR}/package.json ${REEL_WEB_DIR}/package-lock.json
  COMMENT "npm ci (web/): browser-side libraries")
add_custom_command(
  OUTPUT ${REEL_VENDOR_DIR}/hls.min.js
  COMMAND ${CMAKE_COMMAND} -E make_directory ${REEL_VENDOR_DIR}
  COMMAND ${CMAKE_COMMAND} -E copy ${REEL_WEB_DIR}/node_modules/hls.js/dist/hls.min.js ${REEL_VENDOR_DIR}/hls.min.js
  DEPENDS ${REEL_WEB_DIR}/node_modules/.package-lock.json
  COMMENT "vendoring hls.js into static/vendor/")
add_custom_target(reel_web_assets ALL DEPENDS ${REEL_VENDOR_DIR}/hls.min.js)
