# The Debian package: `cmake --build --preset release --target package` writes
# build/release/folio_VERSION_amd64.deb from the install rules (binaries, demo model,
# samples, desktop entry, metainfo, icon, man pages, copyright). Checked by
# tests/packaging (ctest -L packaging).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME folio)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The Folio developers")
set(CPACK_PACKAGE_CONTACT "Folio developers <folio@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "read long documents with a local language model")
# The extended description; CPack indents it and turns empty lines into " .".
set(CPACK_PACKAGE_DESCRIPTION
"Folio opens a whole novel, research paper or annual report (PDF, EPUB, plain
text, Markdown), reads the entire text into its own embedded inference engine
running on the CPU with quantized GGUF models, and answers questions about all
of it, citing the pages it drew on. Models trained on a few thousand tokens are
stretched to whole books with Dual Chunk Attention, position interpolation or
YaRN, and the model's state for a document is saved so that a conversation
resumes at once. Answers can also come from an OpenAI-compatible server.

The package holds the desktop application (folio), the command-line tool
(folio-cli), an OpenAI-compatible server on Folio's engine (folio-server), and
a small demo model with sample documents to try it on.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_STRIP_PROGRAM ${CMAKE_STRIP})
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/strip-notes.cmake)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # folio_VERSION_amd64.deb (no Debian revision: a native package)
set(CPACK_DEBIAN_PACKAGE_SECTION text)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.org/folio")  # a placeholder until the project has a site
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from dpkg-shlibdeps (dpkg-dev)
# Loaded at run time, so dpkg-shlibdeps cannot see them: the xcb platform plugin and
# the SVG icon engine and image format (the window and application icons are SVG).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "qt6-qpa-plugins, libqt6svg6")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
